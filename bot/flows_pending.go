package bot

// Interim: the flow files (request.go, approve.go, partner.go, admin.go) replace these as they land.
