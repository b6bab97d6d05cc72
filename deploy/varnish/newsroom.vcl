# Newsroom's front cache: Varnish 7.1+ with the xkey module (Debian: varnish, varnish-modules).
#
# Start it in front of the app server (`make serve`, 127.0.0.1:8000):
#
#   varnishd -F -a 127.0.0.1:6081 -f deploy/varnish/newsroom.vcl -n /tmp/newsroom-varnish \
#            -s malloc,256m -t 0
#
# and set NEWSROOM_FRONT_CACHE=varnish://127.0.0.1:6081 for the app, so that it purges here.
# and, for live stories, Pushpin on 127.0.0.1:7999 (`make pushpin`; see the pushpin backend).
# `-t 0` (default_ttl 0) matters: a response that does not say how long it may be kept
# (Cache-Control max-age/s-maxage, Expires) is never kept. This file enforces that too.
#
# Another backend port (tests, a second instance): the backend's port is the one `.port` line
# below (8000); replace that line in a copy of this file (tests/frontcache.py does that).
#
# The contract with the app:
# - A public response says `Cache-Control: public, max-age=0, s-maxage=N,
#   stale-while-revalidate=S, stale-if-error=E` and lists what it shows in an `xkey` header
#   (space-separated tags), always with `site`, which an app server of a new release purges
#   as it starts. It is kept for s-maxage, served stale for S seconds while it is fetched
#   again in the background, and served up to E seconds stale while the app is down or
#   answers 5xx. The `xkey` header never reaches clients.
# - `PURGE /` with `xkey-purge: tag1 tag2` from this machine drops every kept response that
#   carries any of those tags; the answer is 200 with `X-Purged: <n>`, xkey's count: tag by
#   tag, the objects that carried it (a copy already purged but not yet dropped by the expiry
#   thread counts again). Read it as "something was there", not as a number of pages.
#   `xkey-softpurge: tag1 tag2` instead (what an app server of a new release sends for `site`)
#   only marks them stale: the next request fetches a fresh copy (never served stale while the
#   app is up, see vcl_hit), but while the app is down or not listening yet they are still
#   served (stale-if-error), not a 503.
#   `PURGE /some/url` without that header drops that URL.
# - Everything personal goes to the app untouched and is never kept: other methods than
#   GET/HEAD, /admin/, /healthz, requests with Authorization or a personal cookie (the list
#   below). Any other cookie is removed before the lookup: it does not change a public page.
# - A response with Set-Cookie or Cache-Control private/no-store/no-cache is never kept
#   (Varnish's builtin rules, which this file always runs).
# - `X-Cache: HIT|MISS` on every response (HIT when served from a kept object).

vcl 4.1;

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 30s;
    # /healthz answers 200 with a database round-trip, 503 when the database is down. While
    # the probe fails, kept pages are served stale (stale-if-error) without asking the app.
    # The probe asks with `Host: 127.0.0.1`: DJANGO_ALLOWED_HOSTS must include 127.0.0.1 (the
    # default does), or the app answers 400 and counts as down.
    .probe = {
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;     # healthy from the start: no 503s before the first probe
    }
}

# Pushpin (`make pushpin`, deploy/pushpin/), which holds readers' live streams: requests for a
# live story's stream (/stories/<slug>/live/stream/) or of live results (/live/results/stream/) are piped to it untouched and never kept;
# it forwards them to the app server itself. Its port is the one `.port` line below (7999).
backend pushpin {
    .host = "127.0.0.1";
    .port = "7999";
    .connect_timeout = 2s;
}

# Who may purge: this machine only. (A request forwarded by a local TLS proxy carries an
# X-Forwarded-For and is refused too, see newsroom_purge.)
acl newsroom_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # The key under which a page is kept (vcl_hash): only ever what this file computes below.
    unset req.http.X-Newsroom-Key;
    if (req.restarts == 0) {
        # Internal markers (set below on restarts): never taken from a client.
        unset req.http.X-Newsroom-Revalidate;
        unset req.http.X-Newsroom-Stale;
        unset req.http.X-Newsroom-Purged;
        unset req.http.X-Newsroom-Soft-Purged;
    }

    if (req.method == "PURGE") {
        call newsroom_purge;
    }

    # A live story's or live results' event stream: a long-lived response Pushpin holds; piped (a raw tunnel: no
    # buffering, no timeout between events, nothing kept).
    if (req.url ~ "^/(stories/[^/?]+/live|live/results)/stream/") {
        set req.backend_hint = pushpin;
        return (pipe);
    }

    # HTTP/2 may send several Cookie headers: one, for the checks below.
    std.collect(req.http.Cookie, "; ");

    # ---- BEGIN tracking parameters -----------------------------------------------------------
    # Mirrors the app's TRACKING_PARAMETER_PREFIXES and TRACKING_PARAMETERS
    # (newsroom/caching/middleware.py): campaign names and per-click ids (a new value for every
    # click on a shared link) change nothing on a page, so a GET or HEAD outside the admin is
    # kept under its URL without them (vcl_hash): one kept copy per page, not one per click.
    # The app gets the URL as sent, drops them as the key does (parameters are what follows
    # the first "?", split at each "&"; empty ones go too) and carries them along its
    # redirects. Keep the two lists identical (a test compares them).
    if ((req.method == "GET" || req.method == "HEAD") && req.url ~ "\?"
            && req.url !~ "^/admin(/|\?|$)") {
        set req.http.X-Newsroom-Key = "&" + regsub(req.url, "^[^?]*\?", "");
        set req.http.X-Newsroom-Key = regsuball(req.http.X-Newsroom-Key,
            "&(utm_[^=&]*|_ga|_gl|dclid|fbclid|gbraid|gclid|igshid|mc_cid|mc_eid|msclkid|ttclid|twclid|wbraid|yclid)(=[^&]*)?(?=&|$)", "");
        set req.http.X-Newsroom-Key = regsuball(req.http.X-Newsroom-Key, "&(?=&|$)", "");
        set req.http.X-Newsroom-Key = regsub(req.url, "\?.*$", "")
            + regsub(req.http.X-Newsroom-Key, "^&", "?");
    }
    # ---- END tracking parameters -------------------------------------------------------------

    if (req.url ~ "^/admin(/|\?|$)" || req.url ~ "^/healthz(/|\?|$)") {
        return (pass);
    }

    # ---- BEGIN personal cookies --------------------------------------------------------------
    # Mirrors the app's list of personal cookies (newsroom/caching/personal.py,
    # personal_cookie_names()): a request carrying any of them is built for one browser and is
    # passed to the app with its cookies. Keep the two lists identical (a test compares them).
    if (req.http.Cookie ~ "(^|;\s*)(sessionid|__Host-sessionid|comments_pending|__Host-comments_pending|comment_author|__Host-comment_author|messages)=") {
        return (pass);
    }
    # ---- END personal cookies ----------------------------------------------------------------

    if (req.http.Authorization) {
        return (pass);
    }

    if (req.method == "GET" || req.method == "HEAD") {
        # Any other cookie (csrftoken, analytics) does not change a public page; without it the
        # app's `Vary: Cookie` has one variant.
        unset req.http.Cookie;
        if (req.http.X-Newsroom-Stale) {
            # The fresh fetch failed (vcl_synth): any kept copy will do, up to its own grace
            # (stale-if-error; the lookup uses the smaller of the two).
            set req.grace = 3650d;
        } else if (req.http.X-Newsroom-Revalidate) {
            # vcl_hit found a copy older than its stale-while-revalidate: fetch a fresh one.
            set req.grace = 0s;
        }
    }
    # Everything else: Varnish's builtin rules (other methods pass, unknown ones pipe).
}

sub newsroom_purge {
    # client.ip is the address that connected (or the PROXY protocol's client). A request
    # relayed by a local proxy has an X-Forwarded-For naming someone else: refused.
    if (client.ip !~ newsroom_purgers || req.http.X-Forwarded-For != "" + client.ip) {
        return (synth(403, "Forbidden"));
    }
    if (req.http.xkey-purge) {
        # Hard purge: every object carrying any of these tags is gone at once.
        set req.http.X-Newsroom-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged"));
    }
    if (req.http.xkey-softpurge) {
        # Soft purge: every object carrying any of these tags expires now but keeps its grace
        # (stale-if-error), to be served while the app cannot answer (vcl_hit).
        set req.http.X-Newsroom-Purged = xkey.softpurge(req.http.xkey-softpurge);
        return (synth(200, "Purged"));
    }
    return (purge);
}

sub vcl_pipe {
    # One piped request per connection: the next one on it must go through vcl_recv again.
    set bereq.http.Connection = "close";
}

sub vcl_backend_fetch {
    # The key is the front cache's own business (vcl_recv, vcl_hash).
    unset bereq.http.X-Newsroom-Key;
}

sub vcl_hash {
    # A page kept for HTTPS must not answer a plain-HTTP request (the app redirects those).
    if (req.http.X-Forwarded-Proto) {
        hash_data(req.http.X-Forwarded-Proto);
    }
    # The URL without its tracking parameters (vcl_recv), then the builtin key's Host.
    if (req.http.X-Newsroom-Key) {
        hash_data(req.http.X-Newsroom-Key);
    } else {
        hash_data(req.url);
    }
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    return (lookup);
}

sub vcl_hit {
    # A kept redirect (an old link) asked for with tracking parameters: the app's own answer,
    # which takes them along to the page it leads to (and is not kept).
    if (obj.status >= 300 && obj.status < 400 && req.http.X-Newsroom-Key
            && req.http.X-Newsroom-Key != req.url && std.healthy(req.backend_hint)) {
        return (pass);
    }
    # Soft-purged (a new release): it expired before its s-maxage ran out (obj.ttl + obj.age is
    # the time it was fresh for, its s-maxage unless purged). Never served for its
    # stale-while-revalidate: only while the app is down or failed to answer, below.
    if (obj.ttl + obj.age + 1s < std.duration(regsub(obj.http.Cache-Control,
            "(?i)^.*s-maxage=([0-9]+).*$", "\1s"), 0s)) {
        set req.http.X-Newsroom-Soft-Purged = "1";
    }
    # Fresh, or stale for less than its stale-while-revalidate: deliver (Varnish refreshes a
    # stale object in the background).
    if (!req.http.X-Newsroom-Soft-Purged && obj.ttl + std.duration(regsub(obj.http.Cache-Control,
            "(?i)^.*stale-while-revalidate=([0-9]+).*$", "\1s"), 0s) > 0s) {
        return (deliver);
    }
    unset req.http.X-Newsroom-Soft-Purged;
    # Older: only while the app is down or failed to answer (stale-if-error, obj.grace).
    if (req.http.X-Newsroom-Stale || !std.healthy(req.backend_hint)) {
        return (deliver);
    }
    # The app is up: ask it for a fresh copy, keeping this one in case that fails.
    set req.http.X-Newsroom-Revalidate = "1";
    return (restart);
}

sub vcl_backend_response {
    # The app failed while a kept copy exists (a background refresh, or the fetch that replaces
    # a copy too old to serve): keep the copy, serve it stale (vcl_synth restarts).
    if (beresp.status >= 500 && !bereq.uncacheable &&
            (bereq.is_bgfetch || bereq.http.X-Newsroom-Revalidate)) {
        return (abandon);
    }

    # Never keep what does not say how long it may be kept (as `-t 0`).
    if (beresp.http.Cache-Control !~ "(?i)(^|[ ,])(s-maxage|max-age)=" && !beresp.http.Expires) {
        set beresp.ttl = 0s;
    }

    # Compress text once, here: clients sending Accept-Encoding: gzip get it as is, others get
    # it unzipped by Varnish. (Not streams such as text/event-stream.)
    if (beresp.http.Content-Type ~ "(?i)^(text/(html|plain|css|javascript|xml|csv)|application/([a-z.+-]*\+)?(json|xml|javascript)|image/svg\+xml)") {
        set beresp.do_gzip = true;
    }

    # Varnish's builtin rules: passes, and anything with Set-Cookie, Cache-Control
    # private/no-store/no-cache, no TTL or Vary: * is delivered now and never kept
    # (hit-for-miss).
    call vcl_builtin_backend_response;

    # A response that will be kept: beresp.grace is its stale-while-revalidate (Varnish reads
    # it); keep it longer, up to its stale-if-error, to serve while the app is down.
    if (beresp.http.Cache-Control ~ "(?i)stale-if-error=[0-9]+") {
        set beresp.http.X-Newsroom-Stale-If-Error = regsub(beresp.http.Cache-Control,
            "(?i)^.*stale-if-error=([0-9]+).*$", "\1s");
        if (std.duration(beresp.http.X-Newsroom-Stale-If-Error, 0s) > beresp.grace) {
            set beresp.grace = std.duration(beresp.http.X-Newsroom-Stale-If-Error, 0s);
        }
        unset beresp.http.X-Newsroom-Stale-If-Error;
    }
    return (deliver);
}

sub vcl_backend_error {
    # The app cannot be reached while a kept copy exists: keep the copy (stale-if-error).
    if (!bereq.uncacheable && (bereq.is_bgfetch || bereq.http.X-Newsroom-Revalidate)) {
        return (abandon);
    }
    # Nothing kept to serve (a form sent, a page never kept): say so plainly, as the app's own
    # 503 page does, instead of Varnish's "Guru Meditation".
    set beresp.status = 503;
    set beresp.ttl = 0s;
    set beresp.http.Content-Type = "text/html; charset=utf-8";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.Retry-After = "30";
    synthetic({"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Briefly unavailable | Newsroom</title></head>
<body>
<main>
<h1>Newsroom is briefly unavailable</h1>
<p>We could not reach the site just now. If you were sending a comment or a form, it was not
saved: please send it again in a minute.</p>
<p><a href="/">Go to the front page</a></p>
</main>
</body>
</html>
"});
    return (deliver);
}

sub vcl_synth {
    if (req.method == "PURGE" && resp.status == 200) {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        if (req.http.X-Newsroom-Purged) {
            set resp.http.X-Purged = req.http.X-Newsroom-Purged;
            set resp.body = "Purged " + req.http.X-Newsroom-Purged + {" objects
"};
        } else {
            set resp.body = {"Purged
"};
        }
        return (deliver);
    }
    # The fetch that was to replace a too-old copy failed (abandoned above): serve the copy.
    if (resp.status == 503 && req.http.X-Newsroom-Revalidate && !req.http.X-Newsroom-Stale) {
        unset req.http.X-Newsroom-Revalidate;
        set req.http.X-Newsroom-Stale = "1";
        return (restart);
    }
}

sub vcl_deliver {
    # The app's tags are internal.
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
