"""Any sequence of good and bad preference writes by several users: each user reads back
exactly their own last accepted document, and a rejected write changes nothing."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from tests.state.machine import STATE_SETTINGS, ApiStateMachine

THEMES = st.sampled_from(["light", "dark", "auto"])
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
BAD = st.one_of(
    st.fixed_dictionaries({"theme": st.text(min_size=1, max_size=8).filter(lambda t: t not in {"light", "dark",
                                                                                                "auto"})}),
    st.fixed_dictionaries({"timezone": st.sampled_from(["Mars/Base", "UTC+2", "", "Europe"])}),
    st.fixed_dictionaries({"notifications": st.fixed_dictionaries({"email": st.sampled_from(["yes", 2, None])})}),
    st.fixed_dictionaries({"unknownField": st.booleans()}),
)
USERS = st.sampled_from(["ana", "ben", "cy"])


class Preferences(ApiStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.expected: dict[str, tuple[str, str]] = {}

    @rule(who=USERS, theme=THEMES, zone=ZONES)
    def save(self, who, theme, zone):
        response = self.api.put("/me/preferences", as_user=self.user(who),
                                json_body={"theme": theme, "timezone": zone})
        assert response.status_code == 200
        self.expected[who] = (theme, zone)

    @rule(who=USERS, document=BAD)
    def save_garbage(self, who, document):
        response = self.api.put("/me/preferences", as_user=self.user(who), json_body=document)
        assert response.status_code == 400
        assert response.json["error"]["details"]["fields"]

    @invariant()
    def everyone_reads_their_own_last_accepted_document(self):
        for who, user_id in self.users.items():
            body = self.api.get("/me/preferences", as_user=user_id).json
            assert (body["theme"], body["timezone"]) == self.expected.get(who, ("auto", "UTC"))


Preferences.TestCase.settings = STATE_SETTINGS
TestPreferences = Preferences.TestCase
