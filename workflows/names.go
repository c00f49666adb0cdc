package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is where ReleaseCase workflows and their activities run.
const TaskQueue = "throughgate-cases"

// Names of the workflow's updates and query, shared with the API.
const (
	UpdateRecordAssessment   = "RecordAssessment"
	UpdateActOnStep          = "ActOnStep"
	UpdateAssign             = "Assign"
	UpdateChangeReleaseDates = "ChangeReleaseDates"
	UpdateTransfer           = "Transfer"
	UpdatePause              = "Pause"
	UpdateResume             = "Resume"
	UpdateReset              = "Reset"
	UpdateClose              = "Close"
	UpdateMigratePlan        = "MigratePlan"
	QueryState               = "State"
)

// Error types the updates reject with, so the API can tell a bad request
// (with field errors in the details) from an action the case's state forbids.
const (
	ErrTypeInvalid  = "InvalidRequest"
	ErrTypeConflict = "Conflict"
)

// WorkflowID is the workflow id of a case. Ids are stored in clear by
// Temporal, so the case id must be opaque: never a prison number or name.
func WorkflowID(caseID string) string { return "case-" + caseID }

// Search attributes: ids, dates and states only, never personal data, since
// Temporal stores them in clear even when payloads are encrypted.
var (
	AttrEstablishment   = temporal.NewSearchAttributeKeyKeyword("TgEstablishment")
	AttrTeam            = temporal.NewSearchAttributeKeyKeyword("TgTeam")
	AttrStage           = temporal.NewSearchAttributeKeyKeyword("TgStage")
	AttrNextDue         = temporal.NewSearchAttributeKeyTime("TgNextDue")
	AttrEscalationLevel = temporal.NewSearchAttributeKeyInt64("TgEscalationLevel")
	AttrStalled         = temporal.NewSearchAttributeKeyBool("TgStalled")
	AttrReleaseDate     = temporal.NewSearchAttributeKeyTime("TgReleaseDate")
)

// SearchAttributes lists the custom search attributes a namespace needs,
// for the dev stack and operators to register.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		AttrEstablishment.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrTeam.GetName():            enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrStage.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrNextDue.GetName():         enumspb.INDEXED_VALUE_TYPE_DATETIME,
		AttrEscalationLevel.GetName(): enumspb.INDEXED_VALUE_TYPE_INT,
		AttrStalled.GetName():         enumspb.INDEXED_VALUE_TYPE_BOOL,
		AttrReleaseDate.GetName():     enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
}
