// Package api is Throughgate's HTTP face: the JSON API under /api/v1, the
// health endpoints, and (in development) the mailbox of the development
// SMTP server. Errors are application/problem+json (RFC 9457) with a
// message a person can act on.
package api
