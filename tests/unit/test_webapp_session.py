"""The web app's signed cookies: the session, and a sign-in at the identity provider not yet back."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.webapp.session import Session, SignInAttempt

KEY = b"a-key-for-these-tests-only-0123456789"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SKEW = timedelta(seconds=30)
# Signed in at the provider at 9:00 for the working day, on a five-minute token.
SHIFT = Session("token", "emp-1042", "associate", "hel-kamppi", "uusimaa", NOW + timedelta(minutes=5),
                NOW + timedelta(hours=10), at_provider=True, refresh_token="refresh")


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
    session = Session("token", "emp-1042", "associate", "hel-kamppi", "uusimaa", NOW + timedelta(hours=1),
                      NOW + timedelta(hours=1), at_provider=True)
    attempt = SignInAttempt.start(NOW, timedelta(minutes=10))
    assert Session.decode(session.encode(KEY), KEY, NOW) == session
    assert SignInAttempt.decode(session.encode(KEY), KEY, NOW) is None
    assert Session.decode(attempt.encode(KEY), KEY, NOW) is None


def test_a_token_is_refreshed_shortly_before_it_expires_and_only_with_a_refresh_token():
    assert not SHIFT.due(NOW + timedelta(minutes=4), SKEW)
    assert SHIFT.due(NOW + timedelta(minutes=4, seconds=30), SKEW)
    assert SHIFT.due(NOW + timedelta(hours=2), SKEW)
    assert not replace(SHIFT, refresh_token=None).due(NOW + timedelta(minutes=4, seconds=30), SKEW)


def test_a_session_outlives_its_token_but_not_its_end():
    cookie = SHIFT.encode(KEY)
    assert Session.decode(cookie, KEY, NOW + timedelta(hours=9, minutes=59)) == SHIFT
    assert Session.decode(cookie, KEY, NOW + timedelta(hours=10)) is None


def test_a_form_stays_theirs_when_the_token_is_refreshed():
    refreshed = replace(SHIFT, token="new-token", expires_at=NOW + timedelta(hours=1), refresh_token="rotated")
    assert refreshed.csrf(KEY) == SHIFT.csrf(KEY)
    assert replace(SHIFT, sub="emp-2001").csrf(KEY) != SHIFT.csrf(KEY)
