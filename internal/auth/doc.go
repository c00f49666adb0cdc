// Package auth is how Throughgate knows who is asking and what they may
// see: local passwords (argon2id, refusing the most common ones), two-step
// sign-in (TOTP and recovery codes, totp.go), browser sessions held in
// PostgreSQL, personal access tokens for API clients, OpenID Connect
// sign-in linked by the provider's subject, the per-account throttle on
// proofs of identity (throttle.go), the client address behind trusted
// proxies (clientaddr.go), and the scope of each role.
//
// Sessions and tokens are random 32-byte secrets; only their SHA-256 is
// stored. A password session of someone who must give a second factor
// reaches nothing else until they have (Principal.Pending); it then gets a
// new id. Server-rendered pages use the same session cookie as the JSON API
// and are protected from cross-site request forgery by net/http's
// CrossOriginProtection, which the API applies to every cookie-authenticated
// unsafe request.
package auth
