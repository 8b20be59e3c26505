module goroscope/tests/go_diff

go 1.19
