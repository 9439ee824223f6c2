package store

import (
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/resident"
)

// dropResidentEvery is how often, at most, a writer drops the process's resident pages of the state file. At
// 100k users the file is over 100 MB; without this every page a turn ever read stays in the process's RSS.
const dropResidentEvery = time.Second

// residentTrim remembers when the mapped pages were last dropped.
type residentTrim struct {
	last atomic.Int64 // Unix nanoseconds
}

// maybeDropResident drops the state file's resident mapped pages when dropResidentEvery has passed since the
// last time. It runs after a commit, outside any transaction of the caller.
func (s *Store) maybeDropResident() {
	now := time.Now().UnixNano()
	last := s.resident.last.Load()
	if now-last < int64(dropResidentEvery) || !s.resident.last.CompareAndSwap(last, now) {
		return
	}
	s.dropResidentNow()
}

// dropResidentNow drops the state file's resident mapped pages. The mapping cannot move (bbolt remaps it when
// the file grows) while a read transaction is open, so its address is taken and used inside one.
func (s *Store) dropResidentNow() {
	err := s.db.View(func(tx *bbolt.Tx) error {
		return resident.Drop(s.db.Info().Data, int(tx.Size()))
	})
	if err != nil {
		s.log.Debug("drop resident pages of the state file", "err", err)
	}
}
