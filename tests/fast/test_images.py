from inventory.catalog import images


def test_a_colour_with_a_trailing_newline_is_not_a_picture():
    assert images.is_valid("mug", "1f2a44")
    assert not images.is_valid("mug", "1f2a44\n")
    assert not images.is_valid("mug", "1f2a44\n<script>")


def test_a_picture_is_an_svg_in_the_chosen_colour():
    assert 'fill="#1f2a44"' in images.render("mug", "1F2A44")
