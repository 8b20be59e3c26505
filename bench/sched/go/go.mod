module goroscope/bench/sched

go 1.19
