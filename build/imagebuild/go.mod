// Build-only module for `make image`: it packs the static cisgate binary (and the test cluster's
// pause program) into an OCI image layout with go-containerregistry, without Docker or a
// registry. A module of its own so the product module does not carry go-containerregistry.
module github.com/cisgate/cisgate/build/imagebuild

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
