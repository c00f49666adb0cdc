// Package api is Throughgate's JSON API under /api/v1, for other systems
// and scripts, described by the OpenAPI document it serves.
//
// A handler reads the request (decode.go), calls the application service
// (internal/casework) with a typed command, and writes the answer. Handlers
// return an error; route() turns it into application/problem+json once, with
// the status casework.Status gives, so the API and the pages answer a
// failure alike.
package api
