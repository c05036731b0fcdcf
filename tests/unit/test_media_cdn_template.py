"""infra/resources.json: the media CDN. CloudFront reads the private media bucket through
origin access control; the bucket policy lets only that distribution get processed image
variants (video messages and raw uploads stay private); every function gets MEDIA_BASE_URL."""

from __future__ import annotations

from tools.resources import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
MEDIA_BASE_URL = {"Fn::Sub": "https://${MediaDistribution.DomainName}"}


def test_the_distribution_reads_the_media_bucket_through_origin_access_control() -> None:
    config = RESOURCES["MediaDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https" and behavior["AllowedMethods"] == ["GET", "HEAD"]
    oac = RESOURCES["MediaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")


def test_only_the_distribution_gets_only_processed_image_variants() -> None:
    policy = RESOURCES["MediaBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "MediaBucket"}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "s3:GetObject"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"].endswith(
        ":distribution/${MediaDistribution}")
    patterns = sorted(r["Fn::Sub"].removeprefix("${MediaBucket.Arn}/") for r in statement["Resource"])
    assert patterns == ["media/*/background_image/*/*.webp", "media/*/profile_image/*/*.webp"]
    # The bucket stays private to everyone else.
    access = RESOURCES["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(access.values())


def test_every_function_gets_the_distribution_as_media_base_url() -> None:
    # The distribution's own domain, or its alias when the MediaDomainName parameter is set.
    expected = {"Fn::If": ["HasMediaDomain", {"Fn::Sub": "https://${MediaDomainName}"}, MEDIA_BASE_URL]}
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["MEDIA_BASE_URL"] == expected
    assert TEMPLATE["Outputs"]["MediaBaseUrl"]["Value"] == expected
