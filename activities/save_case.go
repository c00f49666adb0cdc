package activities

import (
	"context"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// SaveCase is the activity workflows.ActivitySaveCase: it writes the case's
// read model, its new events and its board lines graded now. Projections
// carry the case version, so a retried or late one cannot overwrite a newer.
func (a *Activities) SaveCase(ctx context.Context, p resettlement.Projection) error {
	return a.DB.SaveCase(ctx, p, time.Now())
}
