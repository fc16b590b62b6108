from widget.core.credentials import decode_cookie, encode_cookie, expire_cookie, storage_kind

print(storage_kind({"persist": True, "cookieDomain": None}))
print(storage_kind({"persist": True, "cookieDomain": ".shop.co.uk"}))
print(storage_kind({"persist": False, "cookieDomain": ".shop.co.uk"}))
cookie = encode_cookie("app-1", "abc123", "tok_EN-9", ".shop.co.uk", True)
print(cookie)
print(encode_cookie("app-1", "abc", "bad;token", ".shop.co.uk", False))
print(encode_cookie("app-1", "abc", "tok", "x; domain=evil.com", False))
print(decode_cookie("app-1", "a=1; parley_app1=abc123.tok_EN-9; b=2"))
print(decode_cookie("app-1", "parley_app1=broken"))
print(decode_cookie("app-1", None))
print(expire_cookie("app-1", ".shop.co.uk"))
