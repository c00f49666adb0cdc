package casework

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// SubjectAccessRequest names the person an administrator exports
// everything held about (a subject access request, UK GDPR Article 15):
// by the id of one of their cases, or by prison number — one of the two —
// and the form of the export.
type SubjectAccessRequest struct {
	CaseID       string `json:"case_id,omitempty"`
	PrisonNumber string `json:"prison_number,omitempty"`
	Format       string `json:"format,omitempty"` // "json" (the default) or "csv"
}

// normal is the request with the prison number in capitals and the
// default format.
func (r SubjectAccessRequest) normal() SubjectAccessRequest {
	r.PrisonNumber = strings.ToUpper(strings.TrimSpace(r.PrisonNumber))
	if r.Format == "" {
		r.Format = "json"
	}
	return r
}

// Check checks the request as far as it can without the database.
func (r SubjectAccessRequest) Check() error {
	r = r.normal()
	var errs resettlement.Errors
	switch {
	case r.CaseID == "" && r.PrisonNumber == "":
		errs.Add("case_id", "give the id of one of the person's cases, or their prison number in prison_number")
	case r.CaseID != "" && r.PrisonNumber != "":
		errs.Add("prison_number", "give either case_id or prison_number, not both")
	case r.CaseID != "" && !resettlement.ValidID(r.CaseID):
		errs.Add("case_id", "is not a case id")
	case r.CaseID == "" && !ValidPrisonNumber(r.PrisonNumber):
		errs.Add("prison_number", "must be a prison number: a letter, four digits and two letters, such as A1234BC")
	}
	if r.Format != "json" && r.Format != "csv" {
		errs.Add("format", "must be json or csv")
	}
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	return nil
}

// SubjectAccess is everything held about one person: each of their cases
// with its person, steps, timeline, notes, emails, events, consents,
// partner links and import rows, and the events and import rows with
// their prison number that belong to none of those cases.
type SubjectAccess struct {
	GeneratedAt time.Time                   `json:"generated_at"`
	GeneratedBy string                      `json:"generated_by"`
	Format      string                      `json:"-"`
	Cases       []postgres.SubjectCase      `json:"cases"`
	Events      []postgres.SubjectEvent     `json:"events"`
	ImportRows  []postgres.SubjectImportRow `json:"import_rows"`
}

var (
	errSubjectAdmin = Errorf(Forbidden, "Only administrators export what is held about a person.")
	errNoSubject    = Errorf(NotFound, "Nothing is held about that person: no case has that id or prison number (an anonymised case is found by its id only).")
)

// SubjectAccess exports everything held about the person r names, for an
// administrator — the one time an administrator sees a case's contents —
// and audits it ("subject.export", naming the cases and the form, never
// the prison number). Anyone else is refused (Forbidden, which the
// surfaces audit as every 403).
func (s *Service) SubjectAccess(ctx context.Context, p *auth.Principal, r SubjectAccessRequest) (SubjectAccess, error) {
	if p == nil || !p.IsAdmin() {
		return SubjectAccess{}, errSubjectAdmin
	}
	if err := r.Check(); err != nil {
		return SubjectAccess{}, err
	}
	r = r.normal()
	by := "case_id"
	if r.CaseID == "" {
		by = "prison_number"
	}
	held, err := s.DB.SubjectAccess(ctx, r.CaseID, r.PrisonNumber)
	if errors.Is(err, postgres.ErrNotFound) {
		if aerr := s.Audit(ctx, p, "subject.export", r.CaseID, "by="+by+" found=none"); aerr != nil {
			return SubjectAccess{}, aerr
		}
		return SubjectAccess{}, errNoSubject
	}
	if err != nil {
		return SubjectAccess{}, err
	}
	ids := make([]string, len(held.Cases))
	for i, c := range held.Cases {
		ids[i] = c.Case.ID
	}
	// A person with no case (only events or import rows that opened none)
	// is audited against no case.
	first := ""
	if len(ids) > 0 {
		first = ids[0]
	}
	if err := s.Audit(ctx, p, "subject.export", first, "by="+by+" format="+r.Format+" cases="+strings.Join(ids, ",")); err != nil {
		return SubjectAccess{}, err
	}
	return SubjectAccess{GeneratedAt: s.now().UTC(), GeneratedBy: p.ID(), Format: r.Format, Cases: held.Cases,
		Events: held.Events, ImportRows: held.ImportRows}, nil
}

// WriteCSV writes the export as one CSV table, a row per field of each
// record: section (export, case, person, step, timeline, note, email,
// event, consent, partner_link, import_row), case_id ("" for an event or
// import row under no case), record (the step, timeline entry, note,
// email, event, consent, link, or import and line), field, value. Every
// cell is kept from being read as a formula.
func (x SubjectAccess) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(section, caseID, record, field, value string) {
		_ = cw.Write([]string{section, SpreadsheetSafe(caseID), SpreadsheetSafe(record), field, SpreadsheetSafe(value)})
	}
	row("section", "case_id", "record", "field", "value")
	row("export", "", "", "generated_at", x.GeneratedAt.Format(time.RFC3339))
	row("export", "", "", "generated_by", x.GeneratedBy)
	// events and import rows are written under the case they belong to, or
	// under none.
	putOthers := func(put func(section, record string, v any) error, events []postgres.SubjectEvent, imports []postgres.SubjectImportRow) error {
		for _, e := range events {
			if err := put("event", strconv.FormatInt(e.ID, 10), e); err != nil {
				return err
			}
		}
		for _, r := range imports {
			if err := put("import_row", r.ImportID+":"+strconv.Itoa(r.Line), r); err != nil {
				return err
			}
		}
		return nil
	}
	putter := func(id string) func(section, record string, v any) error {
		return func(section, record string, v any) error {
			fields, err := jsonFields(v)
			for _, f := range fields {
				row(section, id, record, f[0], f[1])
			}
			return err
		}
	}
	for _, c := range x.Cases {
		put := putter(c.Case.ID)
		if err := errors.Join(put("case", "", c.Case), put("person", "", c.Person)); err != nil {
			return err
		}
		for _, st := range c.Steps {
			if err := put("step", st.ID, st); err != nil {
				return err
			}
		}
		for _, e := range c.Timeline {
			if err := put("timeline", strconv.Itoa(e.Seq), e); err != nil {
				return err
			}
		}
		for _, n := range c.Notes {
			if err := put("note", strconv.FormatInt(n.ID, 10), n); err != nil {
				return err
			}
		}
		for _, e := range c.Emails {
			if err := put("email", strconv.FormatInt(e.ID, 10), e); err != nil {
				return err
			}
		}
		for _, k := range c.Consents {
			if err := put("consent", strconv.FormatInt(k.ID, 10), k); err != nil {
				return err
			}
		}
		for _, l := range c.PartnerLinks {
			if err := put("partner_link", l.ID, l); err != nil {
				return err
			}
		}
		if err := putOthers(put, c.Events, c.ImportRows); err != nil {
			return err
		}
	}
	if err := putOthers(putter(""), x.Events, x.ImportRows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// jsonFields is v's JSON object as (name, value) pairs in the order it is
// written: a string as itself, anything else (numbers, objects such as an
// email's data) as its JSON text.
func jsonFields(v any) ([][2]string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out [][2]string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, err
		}
		val := string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			val = s
		}
		out = append(out, [2]string{k.(string), val})
	}
	return out, nil
}
