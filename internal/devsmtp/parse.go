package devsmtp

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// maxMIMEDepth stops a hostile or broken message from recursing forever;
// real alternatives nest two or three levels (mixed > related > alternative).
const maxMIMEDepth = 8

// parseMessage extracts what the mailbox page shows. It never fails: a
// message the parser cannot read is still kept, with its raw bytes, because
// a dev server that silently loses mail would hide exactly the bugs it is
// there to show.
func parseMessage(raw []byte, logger *slog.Logger) Message {
	m := Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		logger.Warn("cannot parse message headers", "err", err)
		return m
	}
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	m.Subject = decodeHeader(dec, msg.Header.Get("Subject"))
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d.UTC()
	}
	walkPart(textproto.MIMEHeader(msg.Header), msg.Body, &m, 0, logger)
	return m
}

func decodeHeader(dec *mime.WordDecoder, v string) string {
	if s, err := dec.DecodeHeader(v); err == nil {
		return s
	}
	return v
}

// walkPart keeps the first text/plain and the first text/html that are not
// attachments, at any depth of multipart nesting.
func walkPart(h textproto.MIMEHeader, body io.Reader, m *Message, depth int, logger *slog.Logger) {
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii" // RFC 2045 default
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		logger.Warn("cannot parse Content-Type", "content_type", ctype, "err", err)
		return
	}
	if disp, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); disp == "attachment" {
		return
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		if depth >= maxMIMEDepth || params["boundary"] == "" {
			return
		}
		// NextRawPart, not NextPart: NextPart decodes quoted-printable
		// itself but not base64, and hides the header that says which.
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				if err != io.EOF {
					logger.Warn("cannot read MIME part", "err", err)
				}
				return
			}
			walkPart(p.Header, p, m, depth+1, logger)
		}
	case mediaType == "text/plain" && m.Text == "":
		m.Text = readText(h, params, body, logger)
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = readText(h, params, body, logger)
	}
}

func readText(h textproto.MIMEHeader, params map[string]string, body io.Reader, logger *slog.Logger) string {
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &dropSpace{r: body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		logger.Warn("cannot decode body part", "err", err)
	}
	return toUTF8(params["charset"], b)
}

// toUTF8 handles the charsets a Go, Python or Java mailer actually sends.
// Anything else is shown as-is if it happens to be valid UTF-8, or with
// replacement characters otherwise; the raw message is still kept.
func toUTF8(charset string, b []byte) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		if !utf8.Valid(b) {
			rs := make([]rune, len(b))
			for i, c := range b {
				rs[i] = rune(c)
			}
			return string(rs)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(charset, b)), nil
}

// dropSpace removes the line breaks that base64 bodies are wrapped with;
// encoding/base64 tolerates \r and \n but not other whitespace.
type dropSpace struct{ r io.Reader }

func (d *dropSpace) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
