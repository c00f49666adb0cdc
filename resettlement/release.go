package resettlement

import (
	"slices"
	"time"
)

// ReleaseDates are the sentence-calculation dates the prisoner index carries.
// Any may be unknown (zero). Dates change — parole decisions, recalculation,
// added days, recall — and every deadline anchored on them moves with them.
type ReleaseDates struct {
	Confirmed Date `json:"confirmed,omitempty"` // confirmed release date, once known
	CRD       Date `json:"crd,omitempty"`       // conditional release
	ARD       Date `json:"ard,omitempty"`       // automatic release
	PED       Date `json:"ped,omitempty"`       // parole eligibility
	NPD       Date `json:"npd,omitempty"`       // non-parole
	PRRD      Date `json:"prrd,omitempty"`      // post-recall release
	HDCED     Date `json:"hdced,omitempty"`     // home detention curfew eligibility
	HDCAD     Date `json:"hdcad,omitempty"`     // home detention curfew actual
	APD       Date `json:"apd,omitempty"`       // actual parole
	TED       Date `json:"ted,omitempty"`       // tariff expiry
	SED       Date `json:"sed,omitempty"`       // sentence expiry
	LED       Date `json:"led,omitempty"`       // licence expiry
	TUSED     Date `json:"tused,omitempty"`     // top-up supervision expiry

	// Indeterminate marks an indeterminate sentence, whose release is at the
	// Parole Board's discretion.
	Indeterminate bool `json:"indeterminate,omitempty"`
}

// ReleaseKind says under which power a person is released, because the
// early-release rule for Fridays applies only to some of them.
type ReleaseKind string

const (
	ReleaseStandard      ReleaseKind = "standard"      // automatic or conditional release
	ReleaseHDC           ReleaseKind = "hdc"           // home detention curfew
	ReleaseParole        ReleaseKind = "parole"        // Parole Board discretionary release
	ReleaseIndeterminate ReleaseKind = "indeterminate" // indeterminate sentence
)

// ReleaseKinds lists every kind of release. Read it; never modify it.
var ReleaseKinds = []ReleaseKind{ReleaseStandard, ReleaseHDC, ReleaseParole, ReleaseIndeterminate}

// Valid reports whether k is one of ReleaseKinds.
func (k ReleaseKind) Valid() bool { return slices.Contains(ReleaseKinds, k) }

// Target returns the target release date and which date it came from, as
// prison-api derives a booking's release date: the confirmed release date;
// else the actual parole date (APD); else the home detention curfew actual
// date (HDCAD); else the latest of ARD, CRD, NPD and PRRD, so after a recall
// the post-recall release date wins over the original CRD. Of equal latest
// dates the source is named in the order ARD, CRD, NPD, PRRD, as prison-api
// orders them. ok is false when no release date is known (release cancelled
// or not yet calculated); eligibility and expiry dates are never a target.
//
// Source: ministryofjustice/prison-api,
// src/main/java/uk/gov/justice/hmpps/prison/repository/jpa/model/OffenderBooking.java
// (deriveOffenderReleaseDate), .../SentenceCalculation.java
// (deriveNonDtoReleaseDate) and
// src/main/java/uk/gov/justice/hmpps/prison/service/support/NonDtoReleaseDate.java
// (compareTo: the later date first; equal dates by type). prison-api then
// takes the detention and training order's mid-term date if it is later;
// Throughgate does not carry that date. docs/design.md, "Target release date".
func (r ReleaseDates) Target() (d Date, source string, ok bool) {
	switch {
	case !r.Confirmed.IsZero():
		return r.Confirmed, "confirmed", true
	case !r.APD.IsZero():
		return r.APD, "APD", true
	case !r.HDCAD.IsZero():
		return r.HDCAD, "HDCAD", true
	}
	for _, c := range []struct {
		name string
		d    Date
	}{{"ARD", r.ARD}, {"CRD", r.CRD}, {"NPD", r.NPD}, {"PRRD", r.PRRD}} {
		if !c.d.IsZero() && (source == "" || c.d.After(d)) {
			d, source = c.d, c.name
		}
	}
	return d, source, source != ""
}

// Kind returns the power the person is released under, which decides whether
// the early release for Fridays applies (Calendar.ReleaseDay). It reads the
// dates that record a decision, whichever date is the target:
//
//  1. an indeterminate sentence is ReleaseIndeterminate;
//  2. else an APD (the Parole Board directed release) is ReleaseParole;
//  3. else an HDCAD (home detention curfew granted) is ReleaseHDC;
//  4. else the release is ReleaseStandard (automatic, conditional or
//     post-recall release).
//
// A confirmed release date does not change the power: it records the day of
// a release already decided, so a confirmed date beside an APD is still a
// Parole Board release. An APD or HDCAD that no longer stands (parole
// refused, curfew revoked) must be removed with a change of dates; while it
// is there the release is treated as that kind. The order is the target's
// (Target), so the kind always matches the date the plan would use without
// the confirmed date. docs/design.md, "Target release date".
func (r ReleaseDates) Kind() ReleaseKind {
	switch {
	case r.Indeterminate:
		return ReleaseIndeterminate
	case !r.APD.IsZero():
		return ReleaseParole
	case !r.HDCAD.IsZero():
		return ReleaseHDC
	}
	return ReleaseStandard
}

// Validate checks the dates are consistent enough to plan against. It
// refuses only contradictions no sentence calculation can produce, each
// named by the field at fault (release_dates.hdcad, …), so a person knows
// which date to correct:
//
//   - no release or eligibility date after the sentence expiry date (SED):
//     the sentence, and with it any release under it, ends there;
//   - no HDC date (HDCED, HDCAD) and no parole eligibility (PED) after the
//     conditional release date (CRD): both are releases before it;
//   - no HDCAD before the HDCED, and no APD before the PED: nobody is
//     released under a power before they are eligible for it;
//   - no licence expiry (LED) before the SED on a determinate sentence.
//
// A date reported once is not reported again for a second contradiction.
func (r ReleaseDates) Validate() error {
	var errs Errors
	bad := func(field, msg string) {
		for _, e := range errs {
			if e.Field == field {
				return
			}
		}
		errs.Add(field, msg)
	}
	for _, c := range []struct {
		field, name string
		d           Date
	}{
		{"release_dates.hdcad", "home detention curfew", r.HDCAD},
		{"release_dates.hdced", "home detention curfew eligibility", r.HDCED},
		{"release_dates.ped", "parole eligibility", r.PED},
	} {
		if !c.d.IsZero() && !r.CRD.IsZero() && c.d.After(r.CRD) {
			bad(c.field, c.name+" cannot be after the conditional release date")
		}
	}
	if !r.HDCAD.IsZero() && !r.HDCED.IsZero() && r.HDCAD.Before(r.HDCED) {
		bad("release_dates.hdcad", "home detention curfew cannot start before its eligibility date")
	}
	if !r.APD.IsZero() && !r.PED.IsZero() && r.APD.Before(r.PED) {
		bad("release_dates.apd", "the actual parole date cannot be before the parole eligibility date")
	}
	if !r.SED.IsZero() {
		for _, c := range []struct {
			field, name string
			d           Date
		}{
			{"release_dates.confirmed", "the confirmed release date", r.Confirmed},
			{"release_dates.crd", "the conditional release date", r.CRD},
			{"release_dates.ard", "the automatic release date", r.ARD},
			{"release_dates.npd", "the non-parole date", r.NPD},
			{"release_dates.prrd", "the post-recall release date", r.PRRD},
			{"release_dates.apd", "the actual parole date", r.APD},
			{"release_dates.hdcad", "home detention curfew", r.HDCAD},
			{"release_dates.hdced", "home detention curfew eligibility", r.HDCED},
			{"release_dates.ped", "parole eligibility", r.PED},
		} {
			if !c.d.IsZero() && c.d.After(r.SED) {
				bad(c.field, c.name+" cannot be after the sentence expiry date")
			}
		}
	}
	if !r.SED.IsZero() && !r.LED.IsZero() && r.LED.Before(r.SED) && !r.Indeterminate {
		bad("release_dates.led", "licence expiry cannot be before sentence expiry")
	}
	return errs.Err()
}

// validateFirst is Validate under the first date rules (rulesFirst), which
// checked three things only: a running case's history replays the changes of
// dates those rules accepted.
func (r ReleaseDates) validateFirst() error {
	var errs Errors
	if !r.SED.IsZero() && !r.LED.IsZero() && r.LED.Before(r.SED) && !r.Indeterminate {
		errs.Add("release_dates.led", "licence expiry cannot be before sentence expiry")
	}
	if t, _, ok := r.targetFirst(); ok && !r.SED.IsZero() && r.SED.Before(t) {
		errs.Add("release_dates", "the release date cannot be after the sentence expiry date")
	}
	if !r.HDCAD.IsZero() && !r.HDCED.IsZero() && r.HDCAD.Before(r.HDCED) {
		errs.Add("release_dates.hdcad", "home detention curfew cannot start before its eligibility date")
	}
	return errs.Err()
}

// checkDates checks a change of dates under the rules the case runs under.
func (c *Case) checkDates(errs *Errors, receivedOn, sentenceDate Date, dates ReleaseDates, now time.Time) {
	validate, custody := dates.Validate, true
	if c.rules() < rulesFixed {
		validate, custody = dates.validateFirst, false
	}
	if err := validate(); err != nil {
		fe, _ := AsFieldErrors(err)
		*errs = append(*errs, fe...)
	}
	if custody {
		checkCustodyDates(errs, receivedOn, sentenceDate, dates, now)
	}
}

// Target returns the case's target release date under the date rules the
// case runs under (Plan.Rules): ReleaseDates.Target, or for a case under the
// first rules the target those rules had (targetFirst), so a running case's
// deadlines, and the history its workflow replays, never change under it.
func (c *Case) Target() (d Date, source string, ok bool) {
	if c.rules() < rulesFixed {
		return c.Dates.targetFirst()
	}
	return c.Dates.Target()
}

// targetFirst is Target under the first date rules (rulesFirst): the first
// known of confirmed, APD, HDCAD, CRD, ARD, PRRD and NPD.
func (r ReleaseDates) targetFirst() (Date, string, bool) {
	for _, c := range []struct {
		name string
		d    Date
	}{
		{"confirmed", r.Confirmed}, {"APD", r.APD}, {"HDCAD", r.HDCAD},
		{"CRD", r.CRD}, {"ARD", r.ARD}, {"PRRD", r.PRRD}, {"NPD", r.NPD},
	} {
		if !c.d.IsZero() {
			return c.d, c.name, true
		}
	}
	return Date{}, "", false
}

// kindFirst is Kind under the first date rules: the kind of the date that is
// the target, so a confirmed date counted as a standard release.
func (r ReleaseDates) kindFirst() ReleaseKind {
	_, source, _ := r.targetFirst()
	switch {
	case r.Indeterminate:
		return ReleaseIndeterminate
	case source == "APD":
		return ReleaseParole
	case source == "HDCAD":
		return ReleaseHDC
	}
	return ReleaseStandard
}

// releaseDayFirst is ReleaseDay under the first date rules: after s.23(3), a
// Friday or a day before a bank holiday moved one working day earlier, once,
// and was not checked again (so Monday 24 December 2029 gave Friday 21st).
func (c Calendar) releaseDayFirst(target Date, kind ReleaseKind, adult bool, servedDays int) Date {
	day := c.OnOrBefore(target)
	if !fridayRuleApplies(kind, adult, servedDays) {
		return day
	}
	if day.Weekday() == time.Friday || c.IsBankHoliday(day.AddDays(1)) {
		return c.AddWorkingDays(day, -1)
	}
	return day
}

// fridayRuleApplies reports whether a release may be moved earlier than
// s.23(3) requires: only a standard release (not home detention curfew,
// Parole Board or an indeterminate sentence) of a person who is an adult on
// the day of release and has served at least 28 days. docs/design.md,
// "Release day", and "Known gaps" on who the rule applies to.
func fridayRuleApplies(kind ReleaseKind, adult bool, servedDays int) bool {
	return kind == ReleaseStandard && adult && servedDays >= 28
}

// ReleaseDay returns the day a person due out on target actually leaves.
//
//  1. A release due on a weekend or bank holiday happens on the previous
//     working day (Criminal Justice Act 1961 s.23(3)). Every release gets
//     this.
//  2. Then, for a release the early-release rule covers (fridayRuleApplies),
//     the day moves back to the nearest "eligible working day": a working
//     day whose next day is also a working day, so the person is not
//     released into a weekend or bank holiday with services closed. It moves
//     at most two working days earlier than the day of step 1 (s.23(3B)–(3D),
//     inserted by the Offenders (Day of Release from Detention) Act 2023
//     s.1, in force 12 December 2023: legislation.gov.uk/ukpga/1961/39/section/23
//     and legislation.gov.uk/ukpga/2023/25).
//
// Step 2 is calculate-release-dates-api's NonFridayReleaseService.getDate
// (ministryofjustice/calculate-release-dates-api,
// src/main/kotlin/uk/gov/justice/digital/hmpps/calculatereleasedatesapi/service/NonFridayReleaseService.kt):
// from the target, step back a day while the day or the day after it is not
// a working day. Stepping back over non-working days first reaches the
// s.23(3) day, so this is the same walk, counted in working days so the
// two-day limit of the Act can be kept; in the England and Wales calendar
// the limit is reached (Friday 27 December 2024 → Monday 23 December) but
// never passed. So a release due on Monday 24 December 2029, before
// Christmas on the Tuesday, is on Thursday 20 December: Friday 21 is
// followed by the weekend.
func (c Calendar) ReleaseDay(target Date, kind ReleaseKind, adult bool, servedDays int) Date {
	day := c.OnOrBefore(target)
	if !fridayRuleApplies(kind, adult, servedDays) {
		return day
	}
	for moved := 0; moved < 2 && !c.IsWorkingDay(day.AddDays(1)); moved++ {
		day = c.AddWorkingDays(day, -1)
	}
	return day
}

// ServedDays counts the days a person has served for the sentence by the
// target release date, for the early-release rule's 28 days
// (Calendar.ReleaseDay). It counts from the sentence date; when that is not
// known, from the reception date, the earliest day we know the person to have
// been in custody for this sentence (they may have been in custody longer:
// received on remand, or moved here from another prison).
func ServedDays(sentenceDate, receivedOn, target Date) int {
	from := sentenceDate
	if from.IsZero() {
		from = receivedOn
	}
	return from.DaysUntil(target)
}

// earliestSentenceDate bounds a sentence date from below: anything earlier is
// a typing mistake, not a sentence still being served.
var earliestSentenceDate = D(1900, 1, 1)

// checkCustodyDates checks the dates of custody against the release dates,
// the same way on opening, on a change of dates and on a reset: the target
// cannot be before the reception date, and the sentence date (optional) can
// be neither in the future, nor after the target, nor before 1900.
func checkCustodyDates(errs *Errors, receivedOn, sentenceDate Date, dates ReleaseDates, now time.Time) {
	t, _, hasTarget := dates.Target()
	if hasTarget && !receivedOn.IsZero() && t.Before(receivedOn) {
		errs.Add("release_dates", "the release date cannot be before the reception date")
	}
	switch {
	case sentenceDate.IsZero():
	case sentenceDate.After(DateOf(now)):
		errs.Add("sentence_date", "cannot be in the future")
	case sentenceDate.Before(earliestSentenceDate):
		errs.Add("sentence_date", "cannot be before 1900")
	case hasTarget && sentenceDate.After(t):
		errs.Add("sentence_date", "cannot be after the target release date")
	}
}
