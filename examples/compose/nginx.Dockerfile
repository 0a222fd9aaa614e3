# nginx with drcon beside it, for docker-compose.yml: drcon renders nginx's
# configuration, checks it with this nginx and reloads it. The build context
# is the one examples/Dockerfile uses (bin/docker, holding the static drcon).
FROM nginx:1.27
COPY drcon /usr/local/bin/drcon
# nginx starts with an empty drcon file (an include of a missing file is an
# error), then drcon fills it; drcon is the container's main process.
ENTRYPOINT ["/bin/sh", "-c", "mkdir -p /etc/nginx/drcon && : >/etc/nginx/drcon/upstreams.conf && nginx && exec drcon -config /etc/drcon/compose/nginx.hcl"]
