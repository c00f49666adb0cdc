package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// MaxBody is the largest request body accepted; beyond it the answer is 413.
const MaxBody = 64 << 10

// readBody reads a request body of at most MaxBody bytes.
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, casework.Errorf(casework.Unsupported, "Send the request body as JSON (Content-Type: application/json).",
				resettlement.FieldError{Field: "Content-Type", Message: "must be application/json"})
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, casework.Errorf(casework.Malformed, "The request body could not be read.", resettlement.FieldError{Field: "body", Message: "could not be read"})
	}
	if len(b) > MaxBody {
		return nil, casework.Errorf(casework.TooLarge, fmt.Sprintf("The request body is larger than %d KiB.", MaxBody>>10),
			resettlement.FieldError{Field: "body", Message: fmt.Sprintf("must be at most %d KiB", MaxBody>>10)})
	}
	return b, nil
}

// decodeBytes decodes one JSON object into v, refusing unknown fields and
// anything after the object, and says which field is at fault.
func decodeBytes(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if !utf8.Valid(b) {
		return casework.Errorf(casework.Malformed, "The request body is not valid UTF-8 text.", resettlement.FieldError{Field: "body", Message: "is not valid UTF-8"})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return casework.Errorf(casework.Malformed, "The request body must hold one JSON object and nothing after it.",
				resettlement.FieldError{Field: "body", Message: "has something after the JSON object"})
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return casework.Errorf(casework.Malformed, fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset),
			resettlement.FieldError{Field: "body", Message: "is not valid JSON"})
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return casework.Errorf(casework.Malformed, "The request body ends before its JSON does.", resettlement.FieldError{Field: "body", Message: "is cut short"})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return casework.FieldsError(resettlement.Errors{{Field: field, Message: "must be " + jsonKind(typ.Value, typ.Type.Kind().String())}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return casework.FieldsError(resettlement.Errors{{Field: "body", Message: "has a field with an empty name"}})
		}
		return casework.FieldsError(resettlement.Errors{{Field: name, Message: "is not a field this request takes"}})
	}
	// A value's own decoder refused it (a malformed date): find which.
	if field, msg := findBadDate(b); field != "" {
		return casework.FieldsError(resettlement.Errors{{Field: field, Message: msg}})
	}
	return casework.FieldsError(resettlement.Errors{{Field: "body", Message: err.Error()}})
}

func jsonKind(got, want string) string {
	switch want {
	case "string":
		return "text (a JSON string), not " + got
	case "bool":
		return "true or false, not " + got
	case "int", "int64", "int32", "float64":
		return "a number, not " + got
	case "slice":
		return "a list, not " + got
	case "struct", "map":
		return "an object, not " + got
	}
	return "a " + want + ", not " + got
}

// dateFields are the JSON names of every date the API takes.
var dateFields = map[string]bool{"date_of_birth": true, "received_on": true, "sentence_date": true, "away_until": true,
	"given_on": true, "withdrawn_on": true,
	"confirmed": true, "crd": true, "ard": true, "ped": true, "npd": true, "prrd": true, "hdced": true,
	"hdcad": true, "apd": true, "ted": true, "sed": true, "led": true, "tused": true}

// findBadDate walks a JSON document for a date field whose value is not a
// date, returning its path (person.date_of_birth) and what is wrong.
func findBadDate(b []byte) (string, string) {
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return "", ""
	}
	var walk func(path string, v any) (string, string)
	walk = func(path string, v any) (string, string) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if dateFields[k] {
					switch d := val.(type) {
					case nil:
					case string:
						if d != "" {
							if _, err := resettlement.ParseDate(d); err != nil {
								return p, "must be a date in the form YYYY-MM-DD"
							}
						}
					default:
						return p, "must be a date in the form YYYY-MM-DD, as a JSON string"
					}
				}
				if f, m := walk(p, val); f != "" {
					return f, m
				}
			}
		case []any:
			for i, val := range x {
				if f, m := walk(fmt.Sprintf("%s[%d]", path, i), val); f != "" {
					return f, m
				}
			}
		}
		return "", ""
	}
	return walk("", doc)
}

// decode reads and decodes a request body.
func decode(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(b, v)
}

// idempotencyKey reads the Idempotency-Key header every change needs.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	return k, casework.CheckKey(k)
}
