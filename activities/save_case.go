package activities

import (
	"context"

	"github.com/throughgate/throughgate/resettlement"
)

// SaveCase is the activity workflows.ActivitySaveCase: it writes the case's
// read model and its new events. Projections carry the case version, so a
// retried or late one cannot overwrite a newer.
func (a *Activities) SaveCase(ctx context.Context, p resettlement.Projection) error {
	return a.DB.SaveCase(ctx, p)
}
