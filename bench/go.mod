module github.com/stompest/stompest/bench

go 1.26.0

require github.com/stompest/stompest v0.0.0

require github.com/go-stomp/stomp/v3 v3.1.0

replace github.com/stompest/stompest => ../
