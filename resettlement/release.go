package resettlement

import "slices"

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

// Target returns the target release date and which date it came from:
// confirmed > APD > HDCAD > CRD > ARD > PRRD > NPD. ok is false when no
// release date is known (release cancelled or not yet calculated).
//
// The first three follow prison-api's release date algorithm (confirmed,
// then actual parole or HDC actual). Where prison-api then takes the non-DTO
// release date the sentence calculation chose (one of ARD, CRD, NPD, PRRD),
// Throughgate, which is given the dates but not that choice, takes the first
// known in the order above. docs/design.md, "Target release date".
func (r ReleaseDates) Target() (d Date, source string, ok bool) {
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

// Kind returns the kind of release the target date stands for.
func (r ReleaseDates) Kind() ReleaseKind {
	_, source, _ := r.Target()
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

// Validate checks the dates are consistent enough to plan against.
func (r ReleaseDates) Validate() error {
	var errs Errors
	if !r.SED.IsZero() && !r.LED.IsZero() && r.LED.Before(r.SED) && !r.Indeterminate {
		errs.Add("release_dates.led", "licence expiry cannot be before sentence expiry")
	}
	if t, _, ok := r.Target(); ok && !r.SED.IsZero() && r.SED.Before(t) {
		errs.Add("release_dates", "the release date cannot be after the sentence expiry date")
	}
	if !r.HDCAD.IsZero() && !r.HDCED.IsZero() && r.HDCAD.Before(r.HDCED) {
		errs.Add("release_dates.hdcad", "home detention curfew cannot start before its eligibility date")
	}
	return errs.Err()
}

// ReleaseDay returns the day a person due out on target actually leaves.
//
// A release due on a weekend or bank holiday happens on the previous working
// day (Criminal Justice Act 1961 s.23(3)). Then, for a standard release
// (kind ReleaseStandard: not home detention curfew, an indeterminate
// sentence or Parole Board discretionary release) of an adult who has served
// at least 28 days, a day that is a Friday or the day before a bank holiday
// moves one working day earlier (s.23(3B), inserted by the Offenders (Day of
// Release from Detention) Act 2023, which allows up to two).
//
// The move is made once and not checked again. calculate-release-dates-api
// instead steps back until the day after is a working day, which differs
// when bank holidays cluster: a release due on Monday 24 December 2029 is
// planned here for Friday 21 December, there for Thursday 20 December.
// docs/design.md, "Known gaps", records this difference.
func (c Calendar) ReleaseDay(target Date, kind ReleaseKind, adult bool, servedDays int) Date {
	day := c.OnOrBefore(target)
	if kind != ReleaseStandard || !adult || servedDays < 28 {
		return day
	}
	if day.Weekday() == 5 || c.IsBankHoliday(day.AddDays(1)) {
		return c.AddWorkingDays(day, -1)
	}
	return day
}
