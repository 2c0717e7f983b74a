module github.com/gdprkit/gdprkit/bench

go 1.26.0

replace github.com/gdprkit/gdprkit => ../

require (
	github.com/gaissmai/bart v0.30.0
	github.com/gdprkit/gdprkit v0.0.0-00010101000000-000000000000
	github.com/pquerna/otp v1.5.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	rsc.io/qr v0.2.0 // indirect
)
