# nginx with drcon as its supervisor, for docker-compose.yml: drcon renders
# nginx's configuration, checks it with this nginx, runs nginx and signals
# it (exec mode). The build context is the one examples/Dockerfile uses
# (bin/docker, holding the static drcon).
FROM nginx:1.27
COPY drcon /usr/local/bin/drcon
# drcon is the container's main process; `docker stop` (SIGTERM) stops it,
# and it stops nginx with SIGQUIT, which finishes the requests in flight.
# CMD is emptied: the base image's would become arguments of drcon.
ENTRYPOINT ["drcon", "-config", "/etc/drcon/compose/nginx.hcl"]
CMD []
