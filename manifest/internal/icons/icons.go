// Package icons draws the AccessBot Teams app icons (a shield with a keyhole) programmatically, so the committed
// PNGs can be regenerated and checked pixel by pixel.
//
// Teams wants a full-colour icon of 192×192 and an outline icon of 32×32 that uses only white and transparency.
package icons

import (
	"image"
	"image/color"
	"math"
)

// ColorSize and OutlineSize are the pixel sizes Teams requires for the two icons.
const (
	ColorSize   = 192
	OutlineSize = 32
)

// DefaultAccent is the background colour of the colour icon; it matches the manifest's default accentColor.
var DefaultAccent = color.NRGBA{R: 0x2F, G: 0x6F, B: 0xDE, A: 0xFF}

// samples per pixel along each axis (supersampling for anti-aliased edges).
const ss = 4

type point struct{ x, y float64 }

// shield is the shield outline in unit coordinates ([0,1]², y down), built once.
var shield = buildShield()

func buildShield() []point {
	pts := []point{{0.5, 0.10}, {0.82, 0.22}, {0.82, 0.50}}
	// right flank: quadratic Bézier to the bottom tip
	pts = append(pts, bezier(point{0.82, 0.50}, point{0.80, 0.78}, point{0.5, 0.92}, 16)...)
	// left flank, mirrored
	pts = append(pts, bezier(point{0.5, 0.92}, point{0.20, 0.78}, point{0.18, 0.50}, 16)...)
	pts = append(pts, point{0.18, 0.22})
	return pts
}

func bezier(p0, c, p1 point, n int) []point {
	out := make([]point, 0, n)
	for i := 1; i <= n; i++ {
		t := float64(i) / float64(n)
		u := 1 - t
		out = append(out, point{
			x: u*u*p0.x + 2*u*t*c.x + t*t*p1.x,
			y: u*u*p0.y + 2*u*t*c.y + t*t*p1.y,
		})
	}
	return out
}

// inPolygon reports whether p lies inside poly (even-odd rule).
func inPolygon(p point, poly []point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

// distToPolygon is the distance from p to the nearest edge of poly.
func distToPolygon(p point, poly []point) float64 {
	best := math.Inf(1)
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		best = math.Min(best, distToSegment(p, poly[j], poly[i]))
	}
	return best
}

func distToSegment(p, a, b point) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := ((p.x-a.x)*dx + (p.y-a.y)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(p.x-(a.x+t*dx), p.y-(a.y+t*dy))
}

// inKeyhole reports whether p lies in the keyhole: a circle over a tapering slot.
func inKeyhole(p point) bool {
	if math.Hypot(p.x-0.5, p.y-0.44) <= 0.085 {
		return true
	}
	if p.y < 0.44 || p.y > 0.70 {
		return false
	}
	half := 0.035 + (p.y-0.44)*0.12 // widens towards the bottom
	return math.Abs(p.x-0.5) <= half
}

// Color draws the 192×192 full-colour icon: a white shield with a keyhole on an accent background.
func Color(accent color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, ColorSize, ColorSize))
	white := color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
	for py := 0; py < ColorSize; py++ {
		for px := 0; px < ColorSize; px++ {
			var r, g, b int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					p := point{(float64(px) + (float64(sx)+0.5)/ss) / ColorSize, (float64(py) + (float64(sy)+0.5)/ss) / ColorSize}
					c := accent
					if inPolygon(p, shield) && !inKeyhole(p) {
						c = white
					}
					r, g, b = r+int(c.R), g+int(c.G), b+int(c.B)
				}
			}
			n := ss * ss
			img.SetNRGBA(px, py, color.NRGBA{R: uint8((r + n/2) / n), G: uint8((g + n/2) / n), B: uint8((b + n/2) / n), A: 0xFF})
		}
	}
	return img
}

// Outline draws the 32×32 outline icon: the shield's border and the keyhole in white on transparency.
func Outline() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, OutlineSize, OutlineSize))
	const stroke = 2.2 / OutlineSize // border width: a little over two pixels
	for py := 0; py < OutlineSize; py++ {
		for px := 0; px < OutlineSize; px++ {
			hits := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					p := point{(float64(px) + (float64(sx)+0.5)/ss) / OutlineSize, (float64(py) + (float64(sy)+0.5)/ss) / OutlineSize}
					if inPolygon(p, shield) && (distToPolygon(p, shield) <= stroke || inKeyhole(p)) {
						hits++
					}
				}
			}
			if hits > 0 {
				img.SetNRGBA(px, py, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: uint8(hits * 255 / (ss * ss))})
			}
		}
	}
	return img
}
