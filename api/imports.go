package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// Loading a caseload: POST /api/v1/imports takes a CSV file (README.md,
// "Loading a caseload") as the body (text/csv) or as the part "file" of a
// multipart form; with ?dry_run=true it only checks it. GET
// /api/v1/imports/{importID} follows an import's progress and pages
// through its rows.

// ImportReport is the body of both routes.
type ImportReport = casework.ImportReport

func (a *app) postImport(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.MayImport(p); err != nil {
		return err // before the body is read
	}
	dryRun := false
	var errs resettlement.Errors
	for k, v := range r.URL.Query() {
		switch k {
		case "dry_run":
			b, err := strconv.ParseBool(v[0])
			if err != nil || len(v) > 1 {
				errs.Add("dry_run", "must be true or false")
			}
			dryRun = b
		default:
			errs.Add(k, "is not a parameter of this route")
		}
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	r.Body = http.MaxBytesReader(w, r.Body, casework.MaxImportBytes+64<<10) // the file and a form's framing
	file, name, err := readUpload(r)
	if err != nil {
		return err
	}
	if dryRun {
		rep, err := a.Cases.CheckImport(r.Context(), p, file)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, rep)
	}
	rep, created, err := a.Cases.CreateImport(r.Context(), p, file, name, r.Header.Get("Idempotency-Key"), true)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/imports/"+rep.ID)
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	return writeJSON(w, status, rep)
}

func (a *app) getImport(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.MayImport(p); err != nil {
		return err
	}
	var q casework.ImportRowQuery
	var errs resettlement.Errors
	for k, v := range r.URL.Query() {
		n, err := strconv.Atoi(v[0])
		switch k {
		case "after":
			if err != nil {
				errs.Add(k, "must be a line number")
			}
			q.After = n
		case "limit":
			if err != nil || n < 1 {
				errs.Add(k, "must be a whole number from 1 to 1000")
			}
			q.Limit = n
		case "status":
			q.Status = v[0]
		default:
			errs.Add(k, "is not a parameter of this route")
		}
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	rep, err := a.Cases.ViewImport(r.Context(), p, chi.URLParam(r, "importID"), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

var errUploadType = casework.Errorf(casework.Unsupported,
	"Send the caseload as CSV: the body as text/csv, or the part \"file\" of a multipart/form-data form.",
	resettlement.FieldError{Field: "Content-Type", Message: "must be text/csv or multipart/form-data"})

// readUpload reads the uploaded file, of at most casework.MaxImportBytes
// (one byte more, so that the check can say it is too large): the body
// as text/csv, or the multipart form's part "file" with its name.
func readUpload(r *http.Request) (file []byte, name string, err error) {
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil {
		return nil, "", errUploadType
	}
	switch mt {
	case "text/csv", "application/csv":
		file, err = io.ReadAll(io.LimitReader(r.Body, casework.MaxImportBytes+1))
		if err != nil {
			return nil, "", unreadable(err)
		}
		return file, "", nil
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, "", casework.FieldsError(resettlement.Errors{{Field: "file", Message: "is required: the form's part \"file\" holds the CSV file"}})
			}
			if err != nil {
				return nil, "", unreadable(err)
			}
			if part.FormName() != "file" {
				continue
			}
			file, err = io.ReadAll(io.LimitReader(part, casework.MaxImportBytes+1))
			if err != nil {
				return nil, "", unreadable(err)
			}
			return file, part.FileName(), nil
		}
	}
	return nil, "", errUploadType
}

// unreadable is the error of a body that could not be read: too large,
// or cut short.
func unreadable(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return casework.Errorf(casework.TooLarge, "The upload is larger than the 20 MiB a caseload file may be: split the file.",
			resettlement.FieldError{Field: "file", Message: "must be at most 20 MiB"})
	}
	return casework.Errorf(casework.Malformed, "The request body could not be read.",
		resettlement.FieldError{Field: "body", Message: "could not be read"})
}
