package resettlement

import (
	"errors"
	"strings"
)

// FieldError is a problem with one input, in words a person understands.
// Field names the input at fault in the API's JSON terms, so the API can
// point at it and a form can show the message beside it.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errors collects every problem with a request, so a person can fix them all
// at once rather than one per round trip.
type Errors []FieldError

// Add records a problem.
func (e *Errors) Add(field, message string) { *e = append(*e, FieldError{field, message}) }

// Err returns nil when there were no problems.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "; ")
}

// oneOf lists the allowed values of an enum for a message: "a, b, c".
func oneOf[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ErrConflict marks an action that is well formed but not allowed in the
// case's current state (completing a closed step, resuming a running case).
var ErrConflict = errors.New("conflict")

// Conflict returns an error wrapping ErrConflict with a message for people.
func Conflict(msg string) error { return conflictError(msg) }

type conflictError string

func (e conflictError) Error() string        { return string(e) }
func (e conflictError) Is(target error) bool { return target == ErrConflict }

// AsFieldErrors returns the field errors in err, if it holds any.
func AsFieldErrors(err error) (Errors, bool) {
	var fe Errors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}
