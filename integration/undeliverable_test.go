package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/resettlement"
)

// TestUndeliverableRemindersReachTheManagersView: when the mail server
// refuses a reminder for good (550), the sender does not retry it, and the
// team's manager sees it on the board, in the API and on the page.
func TestUndeliverableRemindersReachTheManagersView(t *testing.T) {
	d := startDevWithPolicy(t, `{"grace": {"duration": "3s"}, "remind_before": {"duration": "-2s"}, "remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "1h"}, {"duration": "2h"}], "backstop": "1s"}`)
	defer d.Stop()
	d.SMTP.FailNext(1000, 550, "5.1.1 No such mailbox")
	today := resettlement.DateOf(time.Now())
	id := openDemoCase(t, d, "F6789GH", resettlement.ReleaseDates{CRD: today.AddDays(3)}, today.AddDays(-20))

	manager := signIn(t, d, "manager-1")
	var got api.Undeliverables
	waitFor(t, "undeliverable reminders on the manager's view", 30*time.Second, func() bool {
		manager.want(manager.do("GET", "/api/v1/board/undeliverable", nil, nil), 200, "undeliverable").decode(t, &got)
		return len(got.Items) >= 3
	})
	for _, u := range got.Items {
		if u.CaseID != id || u.Team != "pvi-resettlement" || !strings.Contains(u.Error, "550") {
			t.Errorf("undeliverable %+v", u)
		}
	}
	rows, _ := d.DB.CaseEmails(t.Context(), id)
	for _, r := range rows {
		if r.State == "undeliverable" && r.Attempts != 1 {
			t.Errorf("a permanently refused email was tried %d times", r.Attempts)
		}
	}
	// The page, through the same signed-in browser session.
	browser := &http.Client{Jar: manager.hc.Jar} // the API client checks JSON against the OpenAPI document
	resp, err := browser.Get(d.URL + "/board")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Emails that could not be delivered") || !strings.Contains(string(page), "/cases/"+id) {
		t.Errorf("the board page (%d) does not show the undeliverable emails", resp.StatusCode)
	}

	// The other prison's manager sees none of them; an officer may not look.
	other := signIn(t, d, "manager-2")
	other.want(other.do("GET", "/api/v1/board/undeliverable", nil, nil), 200, "other team").decode(t, &got)
	if len(got.Items) != 0 {
		t.Errorf("manager of another team sees %d undeliverable emails", len(got.Items))
	}
	officer := signIn(t, d, "officer-1")
	officer.want(officer.do("GET", "/api/v1/board/undeliverable", nil, nil), 403, "officer")
}
