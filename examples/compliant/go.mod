module github.com/org/orders-api

go 1.23
