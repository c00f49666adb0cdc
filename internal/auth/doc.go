// Package auth is how Throughgate knows who is asking and what they may
// see: local passwords (argon2id), browser sessions held in PostgreSQL,
// personal access tokens for API clients, OpenID Connect sign-in, and the
// scope of each role.
//
// Sessions and tokens are random 32-byte secrets; only their SHA-256 is
// stored. Server-rendered pages use the same session cookie as the JSON API
// and are protected from cross-site request forgery by net/http's
// CrossOriginProtection, which the API applies to every cookie-authenticated
// unsafe request.
package auth
