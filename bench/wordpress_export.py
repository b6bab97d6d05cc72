#!/usr/bin/env python3
"""Write a synthetic WordPress export (WXR 1.2) to measure `import_wordpress` on a big site:
POSTS published posts in 10 categories and 200 tags, each with COMMENTS/POSTS comments in
threads of three (a comment and two replies), every field the importer reads filled in.

    python3 bench/wordpress_export.py 20000 200000 /tmp/big.xml
    /usr/bin/time -v .venv/bin/python manage.py import_wordpress /tmp/big.xml

Needs nothing but Python. The file is about 11 kB per post with 10 comments (some 220 MB for
20,000 posts and 200,000 comments)."""

import argparse
from xml.sax.saxutils import escape

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Synthetic site</title><link>https://old.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>writer</wp:author_login><wp:author_email>w@example.com
</wp:author_email><wp:author_display_name>Staff Writer</wp:author_display_name></wp:author>
"""
PARAGRAPH = "<p>" + "The skater crossed the line in a track record and the crowd rose. " * 12
BODY = f"<h2>Heading</h2>{(PARAGRAPH + '</p>') * 6}<ul><li>one</li><li>two</li></ul>"


def post(number, first_comment, comments):
    parts = [
        f"<item><title>Race report {number}</title>"
        f"<link>https://old.example/2020/01/02/race-report-{number}/</link>"
        f"<dc:creator>writer</dc:creator><content:encoded><![CDATA[{BODY}]]></content:encoded>"
        "<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
        f"<wp:post_id>{number}</wp:post_id><wp:post_date>2020-01-02 10:00:00</wp:post_date>"
        "<wp:post_date_gmt>2020-01-02 10:00:00</wp:post_date_gmt>"
        "<wp:comment_status>open</wp:comment_status>"
        f"<wp:post_name>race-report-{number}</wp:post_name><wp:status>publish</wp:status>"
        "<wp:post_type>post</wp:post_type><wp:post_password></wp:post_password>"
        f'<category domain="category" nicename="sport{number % 10}">Sport {number % 10}'
        f'</category><category domain="post_tag" nicename="tag{number % 200}">'
        f"Tag {number % 200}</category>\n"
    ]
    for offset in range(comments):
        comment_id = first_comment + offset
        parent = comment_id - 1 if offset % 3 else 0
        parts.append(
            f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
            f"<wp:comment_author>Reader {comment_id}</wp:comment_author>"
            f"<wp:comment_author_email>r{comment_id}@example.com</wp:comment_author_email>"
            "<wp:comment_author_url></wp:comment_author_url>"
            "<wp:comment_author_IP>192.0.2.1</wp:comment_author_IP>"
            "<wp:comment_date_gmt>2020-01-03 10:00:00</wp:comment_date_gmt>"
            f"<wp:comment_content>{escape('Great race, well done to everyone in it.')}"
            "</wp:comment_content><wp:comment_approved>1</wp:comment_approved>"
            f"<wp:comment_type></wp:comment_type><wp:comment_parent>{parent}"
            "</wp:comment_parent></wp:comment>\n"
        )
    parts.append("</item>\n")
    return "".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", type=int)
    parser.add_argument("comments", type=int)
    parser.add_argument("output")
    args = parser.parse_args()
    per_post = args.comments // max(1, args.posts)
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for number in range(1, args.posts + 1):
            out.write(post(number, 1 + (number - 1) * per_post, per_post))
        out.write("</channel></rss>\n")


if __name__ == "__main__":
    main()
