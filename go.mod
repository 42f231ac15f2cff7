module github.com/signetdev/signet

go 1.26.0
