// Package mail is how Throughgate's reminder, escalation and digest emails
// get written and handed to an SMTP relay.
//
// Two halves, both used by the outbox drainer (see docs/design.md, "The
// outbox mailer"):
//
//   - Rendering. RenderAlert and RenderDigest turn an Alert (what is due,
//     for which case reference, how urgent) into a subject, a plain-text body
//     and an HTML alternative, from templates embedded from templates/. The
//     subject says what and how urgent ("[Critical] Escalation: Overdue 3
//     days: Housing: duty to refer for case 1042 — release in 9 days") so a
//     manager triaging a phone inbox need not open the message. Alerts carry
//     no personal data about the person in custody: email leaves our
//     control, so it carries a case reference and a link, nothing more.
//
//   - Sending. A Sender (built from a validated Config) delivers a batch of
//     Messages over one go-mail connection: STARTTLS required by default,
//     certificate verified, SMTP AUTH PLAIN/LOGIN/XOAUTH2/OAUTHBEARER, an
//     optional per-minute rate limit (the outbox replaces it with one shared
//     by every worker, through SendGated). For XOAUTH2/OAUTHBEARER the
//     access token is either static (SMTP_PASSWORD) or fetched with the
//     OAuth client credentials grant (ClientCredentials: cached until
//     shortly before it expires, fetched again once when the server
//     rejects it). Each message carries the Message-ID the outbox chose, so
//     a retry after an ambiguous failure is recognisably the same email.
//     Send returns one error per message; IsPermanent says
//     whether the outbox should give up (5xx, bad credentials, malformed
//     message) or retry with backoff (4xx, network, timeouts). Check does
//     everything but send, for the readiness probe.
//
// Error texts name the environment variable to fix (SMTP_FROM,
// SMTP_USERNAME / SMTP_PASSWORD, ...) because they end up in front of an
// operator, not a developer.
//
// Tests run against the real development SMTP server in internal/devsmtp;
// there are no mocks of SMTP here.
package mail
