package pgcluster

import (
	"os"
	"strconv"
	"strings"
)

// procCwd returns the working directory of pid. A postmaster chdirs into its
// data directory, so this tells us whether a live pid from postmaster.pid is
// really the server of this directory or an unrelated process that inherited
// the number after a crash or reboot.
func procCwd(pid int) (string, error) {
	return os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
}

func procZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may itself
	// contain spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// procOrphans lists the processes still running the postgres program at exe
// inside dataDir. Once their postmaster is gone these are orphaned backends;
// a developer's shell sitting in the directory does not match, since its
// executable differs.
func procOrphans(dataDir, exe string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A binary replaced by a package upgrade shows as "... (deleted)".
		if p, err := os.Readlink("/proc/" + e.Name() + "/exe"); err != nil || strings.TrimSuffix(p, " (deleted)") != exe {
			continue
		}
		if cwd, err := procCwd(pid); err == nil && cwd == dataDir {
			pids = append(pids, pid)
		}
	}
	return pids
}
