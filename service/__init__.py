"""The always-on server's parts: the HTTP API, the cookie login, the scheduler and the inbox
(service/server.py puts them in the dashboard's process). Below `ui` in the layers: pages
may use its session helpers; it never imports pages or ui."""
