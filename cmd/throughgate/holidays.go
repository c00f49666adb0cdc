package main

import (
	"fmt"
	"io"
	"os"

	"github.com/throughgate/throughgate/resettlement"
)

// Exit codes of `throughgate holidays check`, so that a script can tell a
// feed that changes nothing from one that changes bank holidays.
const (
	holidaysSame    = 0 // FILE gives the same England and Wales bank holidays
	holidaysChanged = 1 // FILE changes at least one day
	holidaysBad     = 2 // bad arguments, or FILE unreadable or not a feed
)

// runHolidays runs `throughgate holidays check FILE`: it compares FILE, a
// download of https://www.gov.uk/bank-holidays.json, with the copy compiled
// into this binary (resettlement/bank-holidays.json) and prints one line per
// day a calendar built on FILE would change, then a summary. It reads the
// settings of no other command and starts nothing. The update steps are in
// README.md, "Bank holidays".
func runHolidays(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: throughgate holidays check FILE   (FILE: a download of https://www.gov.uk/bank-holidays.json)")
		return holidaysBad
	}
	file := args[1]
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate holidays check: %v\n", err)
		return holidaysBad
	}
	cmp, err := resettlement.CompareHolidays(resettlement.EmbeddedHolidayFeed(), data)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate holidays check: %s: %v\n", file, err)
		return holidaysBad
	}
	counts := map[resettlement.HolidayChangeKind]int{}
	for _, c := range cmp.Changes {
		fmt.Fprintln(stdout, c)
		counts[c.Kind]++
	}
	years := fmt.Sprintf("the built-in feed holds %d–%d, %s holds %d–%d; other years come from the rules",
		cmp.OldFrom, cmp.OldTo, file, cmp.NewFrom, cmp.NewTo)
	if len(cmp.Changes) == 0 {
		fmt.Fprintf(stdout, "no changes to England and Wales bank holidays (%s)\n", years)
		return holidaysSame
	}
	plural := "s"
	if len(cmp.Changes) == 1 {
		plural = ""
	}
	fmt.Fprintf(stdout, "%d change%s to England and Wales bank holidays: %d added, %d removed, %d renamed (%s)\n",
		len(cmp.Changes), plural, counts[resettlement.HolidayAdded], counts[resettlement.HolidayRemoved], counts[resettlement.HolidayRenamed], years)
	return holidaysChanged
}
