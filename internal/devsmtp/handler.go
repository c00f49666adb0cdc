package devsmtp

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Handler serves the mailbox: GET /dev/mail (HTML, newest first) and
// GET /dev/mail.json (a JSON array, newest first). The API router mounts it
// at those two paths; any path ending in ".json" gets JSON, anything else
// the page, so mounting under a prefix or with StripPrefix also works.
//
// Everything in a message is attacker-controlled as far as this page is
// concerned (a test may send "<script>" on purpose), so the page is rendered
// with html/template, the HTML body is shown only inside a sandboxed iframe
// with scripts disabled, and a strict Content-Security-Policy applies.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	msgs := s.snapshotLocked()
	s.mu.Unlock()
	slices.Reverse(msgs) // newest first: the message you just triggered is at the top

	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")

	if strings.HasSuffix(r.URL.Path, ".json") {
		h.Set("Content-Type", "application/json")
		if msgs == nil {
			msgs = []Message{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(msgs)
		return
	}

	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	if err := mailboxPage.Execute(w, mailboxData{Messages: msgs, Total: len(msgs), Max: MaxMessages}); err != nil {
		s.logger.Warn("render mailbox page", "err", err)
	}
}

type mailboxData struct {
	Messages []Message
	Total    int
	Max      int
}

var mailboxPage = template.Must(template.New("mailbox").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.Local().Format("Mon 2 Jan 2006 15:04:05") },
	"iso":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development mailbox ({{.Total}}) – Throughgate</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem; color: #0b0c0c; background: #fff; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #b1b4b6; }
th { background: #f3f2f1; }
code { font-size: .9em; word-break: break-all; }
pre { white-space: pre-wrap; word-wrap: break-word; background: #f3f2f1; padding: .5rem; }
iframe { width: 100%; min-height: 24rem; border: 1px solid #b1b4b6; }
summary { cursor: pointer; color: #1d70b8; text-decoration: underline; }
summary:focus { outline: 3px solid #fd0; }
a { color: #1d70b8; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body>
<main>
<h1>Development mailbox</h1>
<p>Every message the development SMTP server has accepted, newest first ({{.Total}} kept, at most {{.Max}}).
Nothing here was delivered to anyone. <a href="mail.json">JSON</a> · <a href="">Refresh</a></p>
{{if .Messages}}
<table>
<caption class="visually-hidden">Received messages</caption>
<thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject and body</th><th scope="col">Message-ID</th></tr></thead>
<tbody>
{{range .Messages}}<tr id="m{{.ID}}">
<td><time datetime="{{iso .Received}}">{{when .Received}}</time></td>
<td>{{join .To}}</td>
<td><strong>{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</strong>
<div>From {{.From}}{{if .AuthUser}}, authenticated as {{.AuthUser}}{{end}}{{if not .TLS}}, <strong>without TLS</strong>{{end}}</div>
{{if .Text}}<details><summary>Text version</summary><pre>{{.Text}}</pre></details>{{end}}
{{if .HTML}}<details><summary>HTML version</summary><iframe sandbox="" title="HTML version of message {{.ID}}" srcdoc="{{.HTML}}"></iframe></details>{{end}}
</td>
<td><code>{{.MessageID}}</code></td>
</tr>
{{end}}</tbody>
</table>
{{else}}
<p>No messages yet.</p>
{{end}}
</main>
</body>
</html>
`))
