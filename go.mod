module github.com/stompest/stompest

go 1.25.0
