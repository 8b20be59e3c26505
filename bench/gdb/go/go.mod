module goroscope/bench/gdb

go 1.19
