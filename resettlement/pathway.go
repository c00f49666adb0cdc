package resettlement

import "slices"

// Pathway is one of the seven HMPPS resettlement pathways.
type Pathway string

const (
	Accommodation    Pathway = "accommodation"
	AttitudesThought Pathway = "attitudes-thinking-behaviour"
	ChildrenFamilies Pathway = "children-families-communities"
	DrugsAlcohol     Pathway = "drugs-alcohol"
	EducationWork    Pathway = "education-skills-work"
	FinanceID        Pathway = "finance-id"
	Health           Pathway = "health"
)

// Pathways lists the pathways in the order staff are used to seeing them.
// Read it; never modify it.
var Pathways = []Pathway{Accommodation, AttitudesThought, ChildrenFamilies, DrugsAlcohol, EducationWork, FinanceID, Health}

// Title is the pathway's name as staff know it.
func (p Pathway) Title() string {
	switch p {
	case Accommodation:
		return "Accommodation"
	case AttitudesThought:
		return "Attitudes, thinking and behaviour"
	case ChildrenFamilies:
		return "Children, families and communities"
	case DrugsAlcohol:
		return "Drugs and alcohol"
	case EducationWork:
		return "Education, skills and work"
	case FinanceID:
		return "Finance and ID"
	case Health:
		return "Health"
	}
	return string(p)
}

// Valid reports whether p is one of the seven pathways.
func (p Pathway) Valid() bool { return slices.Contains(Pathways, p) }

// PathwayStatus uses the vocabulary staff already know from the prison's
// resettlement tools.
type PathwayStatus string

const (
	PathwayNotStarted         PathwayStatus = "not-started"
	PathwayInProgress         PathwayStatus = "in-progress"
	PathwaySupportRequired    PathwayStatus = "support-required"
	PathwaySupportNotRequired PathwayStatus = "support-not-required"
	PathwaySupportDeclined    PathwayStatus = "support-declined"
	PathwayDone               PathwayStatus = "done"
)

// PathwayStatuses lists the pathway statuses in the order staff choose
// from them. Read it; never modify it.
var PathwayStatuses = []PathwayStatus{PathwayNotStarted, PathwayInProgress, PathwaySupportRequired,
	PathwaySupportNotRequired, PathwaySupportDeclined, PathwayDone}

// Valid reports whether s is one of PathwayStatuses.
func (s PathwayStatus) Valid() bool { return slices.Contains(PathwayStatuses, s) }

// Title is the status as staff know it.
func (s PathwayStatus) Title() string {
	switch s {
	case PathwayNotStarted:
		return "Not started"
	case PathwayInProgress:
		return "In progress"
	case PathwaySupportRequired:
		return "Support required"
	case PathwaySupportNotRequired:
		return "Support not required"
	case PathwaySupportDeclined:
		return "Support declined"
	case PathwayDone:
		return "Done"
	}
	return string(s)
}

// SkipReason says why the pre-release assessment was skipped.
type SkipReason string

const (
	SkipCompletedInOASys       SkipReason = "completed-in-oasys"
	SkipCompletedInOtherPrison SkipReason = "completed-in-another-prison"
	SkipEarlyRelease           SkipReason = "early-release"
	SkipTransfer               SkipReason = "transfer"
	SkipOther                  SkipReason = "other"
)

// SkipReasons lists the reasons an assessment may be skipped. Read it;
// never modify it.
var SkipReasons = []SkipReason{SkipCompletedInOASys, SkipCompletedInOtherPrison, SkipEarlyRelease, SkipTransfer, SkipOther}

// Valid reports whether r is one of SkipReasons.
func (r SkipReason) Valid() bool { return slices.Contains(SkipReasons, r) }
