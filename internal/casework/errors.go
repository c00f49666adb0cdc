package casework

import (
	"context"
	"errors"
	"net/http"

	"github.com/throughgate/throughgate/resettlement"
)

// Kind says what sort of failure an Error is. Each kind answers with one
// HTTP status (Status); the JSON API renders it as problem+json and the
// pages as the form's error summary or the error page.
type Kind uint8

const (
	// Invalid: the request's fields are at fault (Fields names each).
	Invalid Kind = iota + 1
	// Malformed: the request cannot be read at all (bad JSON, no key).
	Malformed
	// Unauthenticated: nobody is signed in, or the credentials are wrong.
	Unauthenticated
	// Forbidden: the person's role does not allow it.
	Forbidden
	// NotFound: no such thing, or one the person may not know exists.
	NotFound
	// Conflict: well formed, but not possible in the case's state.
	Conflict
	// TooLarge: the body is over the size the surface takes.
	TooLarge
	// Unsupported: the body is not in a form the surface takes.
	Unsupported
	// TooMany: a rate limit refused it.
	TooMany
	// Unavailable: a dependency did not answer in time; retrying is safe.
	Unavailable
)

// statuses is the one mapping from kinds of failure to HTTP statuses.
var statuses = map[Kind]int{
	Invalid: http.StatusUnprocessableEntity, Malformed: http.StatusBadRequest,
	Unauthenticated: http.StatusUnauthorized, Forbidden: http.StatusForbidden,
	NotFound: http.StatusNotFound, Conflict: http.StatusConflict,
	TooLarge: http.StatusRequestEntityTooLarge, Unsupported: http.StatusUnsupportedMediaType,
	TooMany: http.StatusTooManyRequests, Unavailable: http.StatusServiceUnavailable,
}

// Error is a failure a person can act on: what kind it is, a sentence that
// says what to do, and the fields at fault. Anything that is not an Error
// is a fault on our side, logged and shown as a 500 without its text.
type Error struct {
	Kind   Kind
	Detail string
	Fields resettlement.Errors
	// CaseID names the existing case when a second open case is refused
	// and the caller may see it.
	CaseID string
}

func (e *Error) Error() string {
	if e.Detail == "" && len(e.Fields) > 0 {
		return e.Fields.Error()
	}
	return e.Detail
}

// Errorf is an Error of a kind with a sentence for people.
func Errorf(kind Kind, detail string, fields ...resettlement.FieldError) *Error {
	return &Error{Kind: kind, Detail: detail, Fields: fields}
}

// FieldsError is the Invalid error naming each field at fault.
func FieldsError(errs resettlement.Errors) *Error {
	return &Error{Kind: Invalid, Detail: "The request has problems: see errors for each field.", Fields: errs}
}

// ErrorOf finds the person-facing failure in err: an Error, the domain's
// field errors or conflict, or the engine's answers. ok is false for a
// fault on our side.
func ErrorOf(err error) (e *Error, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	if fe, isFields := resettlement.AsFieldErrors(err); isFields {
		fe = append(resettlement.Errors(nil), fe...)
		for i := range fe {
			if fe[i].Field == "" {
				fe[i].Field = "body"
			}
		}
		return FieldsError(fe), true
	}
	switch {
	case errors.Is(err, resettlement.ErrConflict):
		return Errorf(Conflict, "Not possible now: "+err.Error()+"."), true
	case errors.Is(err, ErrCaseNotFound):
		return Errorf(NotFound, "The case engine has no process for this case."), true
	case errors.Is(err, ErrCaseClosed):
		return Errorf(Conflict, "The case is closed."), true
	case errors.Is(err, context.DeadlineExceeded):
		return Errorf(Unavailable, "The case engine did not answer in time. Retry with the same Idempotency-Key: the change will not be made twice."), true
	}
	return nil, false
}

// Status is the HTTP status err answers with: its kind's, or 500 for a
// fault on our side. Both surfaces use it, so a failure answers the same
// status from the JSON API and from the pages.
func Status(err error) int {
	if e, ok := ErrorOf(err); ok {
		if s, known := statuses[e.Kind]; known {
			return s
		}
	}
	return http.StatusInternalServerError
}

var (
	errForbidden = Errorf(Forbidden, "Your role does not allow this.")
	errNoCase    = Errorf(NotFound, "There is no such case, or it is not one you can see.")
	errAdminCase = Errorf(Forbidden, "Administrators manage staff, teams and the audit log, not case contents.")
	errNotBoard  = Errorf(Forbidden, "The board is for team managers and heads of service.")
)
