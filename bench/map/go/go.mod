module goroscope/bench/map

go 1.19
