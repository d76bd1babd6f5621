# shellcheck shell=bash
# Sourced by the saf run tests: an unmodified nginx (the Debian package) per
# node namespace, with a configuration generated in WORK. Never the system
# service: its own prefix, pid file, logs and temp folders.

# nginx_conf DIR U4 U6 ROOT CERT KEY: writes DIR/nginx.conf listening on S
# and the node's unicast address (IPv4 and IPv6) on 80, and TLS on 443.
nginx_conf() {
  local dir=$1 u4=$2 u6=$3 root=$4 cert=$5 key=$6 t
  mkdir -p "$dir"
  for t in body proxy fastcgi uwsgi scgi; do mkdir -p "$dir/$t"; done
  cat > "$dir/nginx.conf" <<NGINX
user root;
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 10.99.0.1:80; listen $u4:80;
    listen [fd00:99::1]:80; listen [$u6]:80;
    listen 10.99.0.1:443 ssl; listen $u4:443 ssl;
    ssl_certificate $cert; ssl_certificate_key $key;
    ssl_protocols TLSv1.3;
    root $root;
  }
}
NGINX
}
