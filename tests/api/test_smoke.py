def test_me_provisions_a_new_subject_as_a_client(api):
    response = api.get("/me", as_user="user_new")
    assert response.status_code == 200, response.body
    assert response.json["id"] == "user_new"
    assert response.json["role"] == "client"
