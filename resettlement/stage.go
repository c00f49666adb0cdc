package resettlement

import (
	"slices"
	"time"
)

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

// Stages lists the stages in the order a case passes through them. It is the
// one list of stages: filters, forms and search attributes take their values
// from it. Read it; never modify it.
var Stages = []Stage{StageIdentified, StageAssessment, StagePreRelease, StageRelease, StageFollowUp, StageClosed}

// Valid reports whether s is one of Stages.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Title is the stage's name as staff see it.
func (s Stage) Title() string {
	switch s {
	case StageIdentified:
		return "Identified"
	case StageAssessment:
		return "Assessment"
	case StagePreRelease:
		return "Pre-release plan"
	case StageRelease:
		return "Release"
	case StageFollowUp:
		return "Follow-up"
	case StageClosed:
		return "Closed"
	}
	return string(s)
}

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
	if a, ok := c.Step(StepNeedsAssessment); ok && !a.Status.Open() {
		return StagePreRelease
	}
	if a, ok := c.Step(StepNeedsAssessment); ok && a.Status == StepInProgress {
		return StageAssessment
	}
	if s, ok := c.Step(StepImmediateNeeds); ok && !s.Status.Open() {
		return StageAssessment
	}
	return StageIdentified
}
