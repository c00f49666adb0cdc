package resettlement

// The London zone must resolve the same way on every machine that replays a
// workflow, so the zone database ships inside the binary rather than being
// read from whatever /usr/share/zoneinfo holds.
import _ "time/tzdata"
