package resettlement

import "time"

// Stage is where a case stands, derived from its steps and dates rather than
// stored, so it can never disagree with them.
type Stage string

const (
	StageIdentified Stage = "identified"
	StageAssessment Stage = "assessment"
	StagePreRelease Stage = "pre-release-plan"
	StageRelease    Stage = "release"
	StageFollowUp   Stage = "follow-up"
	StageClosed     Stage = "closed"
)

// Stage derives the case's stage at now.
func (c *Case) Stage(now time.Time) Stage {
	switch {
	case c.Closed:
		return StageClosed
	case c.Released():
		return StageFollowUp
	}
	if day, ok := c.ReleaseDay(); ok && !DateOf(now).Before(day.AddDays(-7)) {
		return StageRelease
	}
	if a, ok := c.Step("needs-assessment"); ok && !a.Status.Open() {
		return StagePreRelease
	}
	if a, ok := c.Step("needs-assessment"); ok && a.Status == StepInProgress {
		return StageAssessment
	}
	if s, ok := c.Step("immediate-needs"); ok && !s.Status.Open() {
		return StageAssessment
	}
	return StageIdentified
}
