"""The web app's signed cookies: the session, and a sign-in at the identity provider not yet back."""

from datetime import UTC, datetime, timedelta

from services.webapp.session import Session, SignInAttempt

KEY = b"a-key-for-these-tests-only-0123456789"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_pkce_challenge_is_the_verifiers_s256_hash():
    # RFC 7636, appendix B
    attempt = SignInAttempt("state", "nonce", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", NOW)
    assert attempt.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_an_attempt_comes_back_as_it_went_until_it_expires():
    attempt = SignInAttempt.start(NOW, timedelta(minutes=10))
    assert len({attempt.state, attempt.nonce, attempt.verifier}) == 3 and 43 <= len(attempt.verifier) <= 128
    cookie = attempt.encode(KEY)
    assert SignInAttempt.decode(cookie, KEY, NOW + timedelta(minutes=9)) == attempt
    assert SignInAttempt.decode(cookie, KEY, NOW + timedelta(minutes=10)) is None
    assert SignInAttempt.decode(cookie, b"another-key-altogether-0123456789", NOW) is None
    assert SignInAttempt.decode(cookie[:-3] + "abc", KEY, NOW) is None
    assert SignInAttempt.decode(None, KEY, NOW) is None


def test_one_kind_of_cookie_is_never_taken_for_the_other():
    session = Session("token", "emp-1042", "associate", "hel-kamppi", "uusimaa", NOW + timedelta(hours=1), at_provider=True)
    attempt = SignInAttempt.start(NOW, timedelta(minutes=10))
    assert Session.decode(session.encode(KEY), KEY, NOW) == session
    assert SignInAttempt.decode(session.encode(KEY), KEY, NOW) is None
    assert Session.decode(attempt.encode(KEY), KEY, NOW) is None
