/// The status page's stylesheet and template (a Mustache source, rendered by ``StatusPage``).
extension StatusPage {
    /// The pages' one stylesheet (the status page, device pages and the alert history share it).
    static let style = """
        :root { --bg:#f6f7f9; --card:#fff; --text:#1b1f24; --muted:#5b6470; --line:#dde1e6;
                --critical:#c62828; --error:#d84315; --warning:#b26a00; --info:#1565c0; --ok:#2e7d32; }
        @media (prefers-color-scheme: dark) {
          :root { --bg:#111418; --card:#1a1f25; --text:#e6e9ed; --muted:#9aa4af; --line:#2b323a;
                  --critical:#ef5350; --error:#ff7043; --warning:#ffb74d; --info:#64b5f6; --ok:#66bb6a; } }
        * { box-sizing: border-box; }
        body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--text); }
        header { padding:14px 18px; display:flex; flex-wrap:wrap; gap:8px 16px; align-items:baseline; border-bottom:1px solid var(--line); background:var(--card); }
        header h1 { font-size:19px; margin:0; }
        main { max-width:1100px; margin:0 auto; padding:14px; }
        h2 { font-size:16px; margin:22px 4px 8px; }
        .muted { color:var(--muted); }
        .pill { display:inline-block; padding:1px 9px; border-radius:999px; font-size:13px; font-weight:600; color:#fff; }
        .ok { background:var(--ok); } .bad { background:var(--critical); }
        .sev-critical { background:var(--critical); } .sev-error { background:var(--error); } .sev-warning { background:var(--warning); }
        .sev-info { background:var(--info); }
        .badge { display:inline-block; padding:0 7px; border-radius:6px; font-size:12px; border:1px solid var(--warning); }
        .badge.ack { border-color: var(--ok, #2e7d32); }
        form.ack { margin-top: 4px; font-size: 12px; }
        form.ack input { font-size: 12px; padding: 2px 4px; max-width: 100%; }
        form.ack button { font-size: 12px; }
        .banner { border-left:4px solid var(--critical); background:var(--card); padding:8px 12px; margin:10px 0; border-radius:6px; }
        .cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(230px,1fr)); gap:10px; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
        .card.blind { border-color:var(--critical); }
        .counts { display:flex; gap:14px; margin:6px 0 2px; }
        .counts b { font-size:20px; display:block; }
        .on { color:var(--ok); } .off { color:var(--critical); } .unk { color:var(--warning); }
        table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
        th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
        tr:last-child td { border-bottom:0; }
        tr:target { outline:2px solid var(--info); }
        .chips { display:flex; flex-wrap:wrap; gap:6px 12px; margin:0 2px 10px; }
        .chip { white-space:nowrap; }
        .empty { background:var(--card); border:1px dashed var(--line); border-radius:8px; padding:12px; color:var(--muted); }
        code { font-size:13px; }
        td code { white-space:nowrap; }
        @media (max-width:640px) {
          table, tbody, tr, td { display:block; width:100%; } thead { display:none; }
          tr { border-bottom:1px solid var(--line); } td { border:0; padding:3px 10px; } td:first-child { padding-top:9px; }
          td[data-label]::before { content:attr(data-label) ": "; color:var(--muted); font-size:12px; } }
        .bar { width:100%; height:28px; display:block; }
        .chart { width:100%; height:auto; display:block; color:var(--muted); }
        .uptime { margin:8px 0 12px; }
        .uptime-head { display:flex; gap:10px; align-items:baseline; margin-bottom:3px; }
        .uptime-head .pct { margin-left:auto; font-weight:600; }
        .legend span { margin-right:10px; white-space:nowrap; } .legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; }
        .range { font-size:14px; font-weight:400; }
        h3 { font-size:14px; margin:14px 0 4px; }
        dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; margin:0; } dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
        """

    static let source = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="refresh" content="15">
        <title>{{title_prefix}}devicewatch</title>
        <style>
        {{{style}}}
        </style>
        </head>
        <body>
        <header>
          <h1>devicewatch</h1>
          {{#ready}}<span class="pill ok">all workspaces visible</span>{{/ready}}
          {{^ready}}<span class="pill bad">blind</span>{{/ready}}
          <span class="muted">{{firing_count}} firing · {{pending_count}} pending · outbox {{outbox_pending}} pending{{#has_dead}}, <a href="/api/v1/notifications?state=dead">{{outbox_dead}} dead</a>{{/has_dead}}</span>
          <span class="muted">updated {{updated}}</span>
        </header>
        <main>
        {{#problems}}<div class="banner">{{.}}</div>{{/problems}}
        {{#reload_failed}}<div class="banner"><b>The latest configuration edit was rejected</b>; running on the last good one.
          <ul>{{#reload_problems}}<li><code>{{.}}</code></li>{{/reload_problems}}</ul></div>{{/reload_failed}}

        <h2>Fleet</h2>
        <div class="cards">
        {{#workspaces}}
          <div class="card{{#blind}} blind{{/blind}}">
            <b>{{id}}</b> <span class="muted">{{#polled}}{{total}} devices{{/polled}}{{^polled}}{{#elsewhere}}polled by another worker{{/elsewhere}}{{^elsewhere}}not polled yet{{/elsewhere}}{{/polled}}</span>
            <div class="counts">
              <span class="on"><b>{{online}}</b>online</span>
              <span class="off"><b>{{offline}}</b>offline</span>
              <span class="unk"><b>{{unknown}}</b>unknown</span>
            </div>
            <div class="muted">{{firing}} firing{{#last_poll}} · polled {{last_poll}}{{/last_poll}}{{#holder}} · by {{holder}}{{/holder}}</div>
            {{#failure}}<div class="off">{{failure}}</div>{{/failure}}
          </div>
        {{/workspaces}}
        </div>

        {{{history_html}}}

        <h2>Firing alerts</h2>
        {{#has_alerts}}
        <div class="chips">{{#rule_summary}}<span class="chip"><span class="pill sev-{{severity}}">{{count}}</span> <code>{{rule}}</code></span>{{/rule_summary}}</div>
        <table>
          <thead><tr><th>Severity</th><th>Device</th><th>Rule</th><th>What</th><th>Since</th></tr></thead>
          <tbody>
          {{#alerts}}
            <tr id="alert-{{fingerprint}}">
              <td><span class="pill sev-{{severity}}">{{severity}}</span></td>
              <td data-label="Device"><b>{{device}}</b> <span class="muted">{{#hostname}}{{hostname}} · {{/hostname}}{{workspace}}</span></td>
              <td data-label="Rule"><code>{{rule}}</code></td>
              <td data-label="What">{{summary}}{{#flapping}} <span class="badge">{{flapping}}</span>{{/flapping}}{{#description}}<br><span class="muted">{{description}}</span>{{/description}}
                {{#acknowledged}}<br><span class="badge ack">✓ {{acknowledged}}</span>{{/acknowledged}}
                {{^acknowledged}}<form class="ack" method="post" action="/alerts/{{fingerprint}}/ack"><label>Acknowledge: <input name="comment" placeholder="what you are doing" maxlength="500"></label> <input name="for" placeholder="for (4h)" size="7" aria-label="for how long"> <input name="author" placeholder="your name" size="10" aria-label="your name">{{#ask_token}} <input type="password" name="token" placeholder="admin token" size="10" aria-label="admin token" required>{{/ask_token}} <button type="submit">Acknowledge</button></form>{{/acknowledged}}</td>
              <td data-label="Since" title="{{since_at}}">{{since}}</td>
            </tr>
          {{/alerts}}
          </tbody>
        </table>
        {{#has_more_alerts}}<p class="muted">and {{more_alerts}} more: <a href="/api/v1/alerts?state=firing">all firing alerts</a></p>{{/has_more_alerts}}
        {{/has_alerts}}
        {{^has_alerts}}<div class="empty">Nothing is firing.</div>{{/has_alerts}}

        {{#has_workers}}
        <h2>Workers</h2>
        <table>
          <thead><tr><th>Worker</th><th>Polls</th></tr></thead>
          <tbody>
          {{#workers}}<tr><td><code>{{id}}</code>{{#me}} <span class="muted">(this one)</span>{{/me}}</td><td data-label="Polls">{{holds}}{{#idle}}<span class="muted">nothing: standing by</span>{{/idle}}</td></tr>{{/workers}}
          </tbody>
        </table>
        <p class="muted">On {{database}}: each workspace is polled by the worker holding its lease; any worker delivers.</p>
        {{/has_workers}}

        <h2>Recent notifications</h2>
        {{#has_notifications}}
        <table>
          <thead><tr><th>When</th><th>Receiver</th><th>Group</th><th>Alerts</th><th>Delivery</th></tr></thead>
          <tbody>
          {{#notifications}}
            <tr>
              <td title="{{when_at}}">{{when}}</td>
              <td data-label="Receiver">{{receiver}} <span class="muted">{{reason}}</span></td>
              <td data-label="Group"><code>{{title}}</code></td>
              <td data-label="Alerts">{{firing}} firing, {{resolved}} resolved</td>
              <td data-label="Delivery">{{state}}{{#attempts_note}} <span class="muted">{{attempts_note}}</span>{{/attempts_note}}{{#error}}<br><span class="off">{{error}}</span>{{/error}}</td>
            </tr>
          {{/notifications}}
          </tbody>
        </table>
        {{/has_notifications}}
        {{^has_notifications}}<div class="empty">No notifications yet.</div>{{/has_notifications}}

        <h2>Silences</h2>
        {{#has_silences}}
        <table>
          <thead><tr><th>Matchers</th><th>Until</th><th>By</th><th>Why</th></tr></thead>
          <tbody>
          {{#silences}}
            <tr><td><code>{{matchers}}</code> <span class="muted">{{state}} · {{id}}</span></td><td data-label="Until">{{ends}} <span class="muted">(in {{ends_in}})</span></td><td data-label="By">{{author}}</td><td data-label="Why">{{comment}}</td></tr>
          {{/silences}}
          </tbody>
        </table>
        {{/has_silences}}
        {{^has_silences}}<div class="empty">No active silences. Add one with <code>devicewatch silence add</code>.</div>{{/has_silences}}
        <p class="muted">JSON: <a href="/api/v1/alerts">alerts</a> · <a href="/api/v1/silences">silences</a> · <a href="/api/v1/notifications">notifications</a> · <a href="/alerts">alert history</a> · <a href="/metrics">metrics</a> · <a href="/readyz">readiness</a></p>
        </main>
        </body>
        </html>
        """
}
