package resettlement

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
func (p Pathway) Valid() bool {
	for _, q := range Pathways {
		if p == q {
			return true
		}
	}
	return false
}

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

// Valid reports whether s is a known pathway status.
func (s PathwayStatus) Valid() bool {
	switch s {
	case PathwayNotStarted, PathwayInProgress, PathwaySupportRequired, PathwaySupportNotRequired, PathwaySupportDeclined, PathwayDone:
		return true
	}
	return false
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

// Valid reports whether r is a known skip reason.
func (r SkipReason) Valid() bool {
	switch r {
	case SkipCompletedInOASys, SkipCompletedInOtherPrison, SkipEarlyRelease, SkipTransfer, SkipOther:
		return true
	}
	return false
}
