//! Floating tags only move forward: with `--floating`, `vX.Y` and `vX` stay on a newer release
//! of their line. Against the real registry, moto as ECR, and scripted stubs for paging
//! (distribution 2.8 ignores `n=` and answers every tag in one page, and moto's ListImages
//! ignores maxResults/nextToken, so neither can show a second page).

use crate::support::*;
use ship_image_tags::digest::short_digest;
use ship_image_tags::ecr::EcrClient;
use ship_image_tags::floating::ListLimits;
use ship_image_tags::oci::{ClientOptions, RegistryClient, OCI_MANIFEST};
use ship_image_tags::ImageRepo;

/// `--release-version version --floating` for `image`, from the build's sha- tag.
fn floating(image: &str, version: &str) -> TagArgs {
    TagArgs::new(image).sha().version(version).floating()
}

/// Puts `manifest` under each of `tags` directly (not through the code under test's retag).
fn put_tags(registry: &Registry, manifest: &ship_image_tags::oci::Manifest, tags: &[String]) {
    let client = registry.client("api");
    rt().block_on(async {
        for tag in tags {
            client.put_manifest(tag, manifest).await.expect("put tag");
        }
    });
}

/// v1.1.4 tagged with --floating after v1.2.0: v1.1 is created, v1 kept on v1.2.0.
#[track_caller]
fn assert_hotfix_kept_v1(run: &Run) {
    run.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.1.4", "created"),
        ("v1.1", "created"),
        ("v1", "kept"),
    ]);
    assert_eq!(
        run.json()["results"][3]["reason"],
        "v1 kept on v1.2.0, newer than v1.1.4"
    );
}

#[test]
fn hotfix_of_an_older_line_keeps_the_major_tag() {
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let image = registry.image("api");
    let (newer, hotfix) = (&images.other.digest, &images.single.digest);

    tag_other(TagArgs::new(&image).floating(), "v1.2.0");
    let run = floating(&image, "v1.1.4").json().run();
    assert_hotfix_kept_v1(&run);
    let json = run.json();
    let v1 = &json["results"][3];
    assert_eq!(v1["kept_on"], "v1.2.0");
    assert_eq!(v1["digest"], newer.as_str());
    assert_eq!(v1["previous_digest"], newer.as_str());
    assert_eq!(json["results"][2]["reason"], serde_json::Value::Null);
    registry.assert_tag("api", "v1", newer);
    registry.assert_tag("api", "v1.2", newer);
    registry.assert_tag("api", "v1.1", hotfix);
    registry.assert_tag("api", "v1.1.4", hotfix);

    // Outputs list the tags that name this image; the kept one is in the json results only.
    assert_eq!(run.outputs["tags"], "sha-abc1234\nv1.1.4\nv1.1");
    assert!(!run.outputs["image-refs"].contains(&format!("{image}:v1\n")));
    assert!(!run.outputs["image-refs"].ends_with(&format!("{image}:v1")));
    assert!(run.outputs["json"].contains("v1 kept on v1.2.0, newer than v1.1.4"));
    run.assert_summary_has(&[&format!(
        "| `v1` | `{newer}` | kept on v1.2.0, newer than v1.1.4 |"
    )]);

    // A re-run in human form says the same.
    floating(&image, "v1.1.4")
        .run()
        .assert_code(0)
        .assert_stdout_has(&[
            &format!(
                "v1 → {} (kept on v1.2.0, newer than v1.1.4)",
                short_digest(newer)
            ),
            "v1.1 → sha256:",
        ]);

    // A pre-release of a later version does not count; a newer patch of the newest line moves
    // both floating tags forward.
    put_tags(&registry, &images.other, &["v1.3.0-rc.1".to_string()]);
    floating(&image, "v1.2.1").json().run().assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.2.1", "created"),
        ("v1.2", "moved"),
        ("v1", "moved"),
    ]);
    registry.assert_tag("api", "v1", hotfix);

    // A release tag without `v` counts too; a floating tag that does not exist yet is not
    // created behind a newer release.
    put_tags(&registry, &images.other, &["1.0.9".to_string()]);
    let run = floating(&image, "v1.0.3").json().run();
    run.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.0.3", "created"),
        ("v1.0", "kept"),
        // v1 already names this image (v1.2.1 moved it here).
        ("v1", "unchanged"),
    ]);
    let json = run.json();
    assert_eq!(
        json["results"][2]["reason"],
        "v1.0 not created: 1.0.9 is newer than v1.0.3"
    );
    assert_eq!(json["results"][2]["digest"], serde_json::Value::Null);
    assert_eq!(registry.fetch("api", "v1.0").unwrap_err(), 404);
}

#[test]
fn many_tags_are_read_whole() {
    // distribution 2.8 ignores `n=100` and answers all 150 tags at once (no Link header): the
    // listing must still see the newest, past the first hundred.
    let registry = Registry::start();
    let images = push_test_images(&registry, "api");
    let tags: Vec<String> = (10..160).map(|p| format!("v5.0.{p}")).collect();
    put_tags(&registry, &images.other, &tags);
    let run = floating(&registry.image("api"), "v5.0.7").json().run();
    run.assert_code(0);
    let json = run.json();
    assert_eq!(
        json["results"][2]["reason"],
        "v5.0 not created: v5.0.159 is newer than v5.0.7"
    );
    assert_eq!(json["results"][3]["kept_on"], "v5.0.159");
    assert_eq!(registry.fetch("api", "v5").unwrap_err(), 404);
}

/// A registry stub with the test image under `sha-abc1234`, `v1` on another digest, other
/// tags missing, puts accepted, and `tags/list` answered by `tags` (given the request's path
/// with its query, and its Host).
fn paged_registry(
    tags: impl Fn(&str, &str) -> StubResponse + Send + Sync + 'static,
) -> (Stub, String) {
    let manifest = manifests().single;
    let digest = sha256(&manifest);
    let answer_digest = digest.clone();
    let stub = Stub::start(move |req| {
        let path = req.path.split('?').next().unwrap_or_default();
        match (req.method.as_str(), path) {
            ("GET", "/v2/api/tags/list") => tags(
                &req.path,
                req.headers.get("host").map_or("", String::as_str),
            ),
            ("GET" | "HEAD", "/v2/api/manifests/sha-abc1234") => StubResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &answer_digest)
                .body(manifest.clone()),
            ("HEAD", "/v2/api/manifests/v1") => StubResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header(
                    "Docker-Content-Digest",
                    &format!("sha256:{}", "a".repeat(64)),
                ),
            ("HEAD", _) => StubResponse::new(404),
            ("PUT", _) => StubResponse::new(201).header("Docker-Content-Digest", &answer_digest),
            _ => StubResponse::new(405),
        }
    });
    (stub, digest)
}

fn tag_page(tags: &[&str]) -> StubResponse {
    StubResponse::new(200)
        .header("Content-Type", "application/json")
        .body(serde_json::json!({ "name": "api", "tags": tags }).to_string())
}

fn put_paths(stub: &Stub) -> Vec<String> {
    stub.requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path)
        .collect()
}

#[test]
fn link_pages_are_followed_to_the_newest_release() {
    // Three pages: a relative next link, then an absolute one, then none. The newer release
    // is only on the last page.
    let (stub, _) = paged_registry(|path, host| match path {
        "/v2/api/tags/list?n=100" => tag_page(&["sha-abc1234", "v1", "v1.0.0"]).header(
            "Link",
            r#"</v2/api/tags/list?last=v1.0.0&n=100>; rel="next""#,
        ),
        "/v2/api/tags/list?last=v1.0.0&n=100" => tag_page(&["v1.1.0"]).header(
            "Link",
            &format!(r#"<http://{host}/v2/api/tags/list?last=v1.1.0&n=100>; rel="next""#),
        ),
        "/v2/api/tags/list?last=v1.1.0&n=100" => tag_page(&["v1.3.0"]),
        _ => StubResponse::new(400),
    });
    let run = floating(&format!("{}/api", stub.host()), "v1.2.0")
        .json()
        .run();
    run.assert_statuses(&[
        (SHA_TAG, "unchanged"),
        ("v1.2.0", "created"),
        ("v1.2", "created"),
        ("v1", "kept"),
    ]);
    assert_eq!(
        run.json()["results"][3]["reason"],
        "v1 kept on v1.3.0, newer than v1.2.0"
    );
    let listed: Vec<String> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v2/api/tags/list"))
        .map(|r| r.path)
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        put_paths(&stub),
        ["/v2/api/manifests/v1.2.0", "/v2/api/manifests/v1.2"]
    );
}

/// Tags v1.2.0 with --floating against a stub whose tag list answers `status` with `body`
/// (and a `Link` header when given): one error line naming the registry, holding `wants`,
/// and nothing written.
fn listing_refused(status: u16, body: &'static str, link: Option<&'static str>, wants: &[&str]) {
    let (stub, _) = paged_registry(move |_, _| {
        let response = StubResponse::new(status)
            .header("Content-Type", "application/json")
            .body(body);
        match link {
            Some(link) => response.header("Link", link),
            None => response,
        }
    });
    let image = format!("{}/api", stub.host());
    let run = floating(&image, "v1.2.0").run();
    let registry = format!("registry {}", stub.host());
    let mut all = vec![registry.as_str(), "nothing was tagged"];
    all.extend(wants);
    assert_one_line_error(&run, 1, &all);
    assert!(put_paths(&stub).is_empty(), "{:?}", stub.requests());

    // Without --floating nothing is listed: no new permission is needed.
    TagArgs::new(&image)
        .sha()
        .version("v1.2.0")
        .run()
        .assert_code(0);
}

#[test]
fn listing_failures_tag_nothing() {
    // A next page on another host is not followed (it would receive the credentials).
    listing_refused(
        200,
        r#"{"name":"api","tags":["v1.0.0"]}"#,
        Some(r#"<http://other.example/v2/api/tags/list?last=v1.0.0>; rel="next""#),
        &["other.example", "not followed"],
    );
    // Not allowed to list.
    listing_refused(
        403,
        r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
        None,
        &[
            "denied listing the tags of api (HTTP 403",
            "DENIED",
            "check that REGISTRY_USERNAME/REGISTRY_PASSWORD",
        ],
    );
    // The registry does not know the repository's tag list.
    listing_refused(
        404,
        r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        None,
        &[
            "has no api (HTTP 404 when listing the tags of",
            "NAME_UNKNOWN",
            "does not know the repository api",
        ],
    );
}

#[test]
fn oci_paging_is_bounded() {
    // Every page links to another: after max_pages the listing stops with a clear error.
    let (stub, _) = paged_registry(|path, _| {
        let page: usize = path
            .rsplit_once("last=t")
            .and_then(|(_, n)| n.split('&').next()?.parse().ok())
            .unwrap_or(0)
            + 1;
        tag_page(&[&format!("t{}", 2 * page - 1), &format!("t{}", 2 * page)]).header(
            "Link",
            &format!(r#"</v2/api/tags/list?last=t{}&n=2>; rel="next""#, 2 * page),
        )
    });
    let client = RegistryClient::new(
        &ImageRepo::parse(&format!("{}/api", stub.host())).unwrap(),
        ClientOptions {
            list_limits: ListLimits {
                page_size: 2,
                max_pages: 3,
            },
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let err = rt().block_on(client.list_tags()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("after 3 pages (6 tags read)"), "{text}");
    assert!(text.contains("check the repository's tag count"), "{text}");
    assert!(
        stub.requests()[0].path.ends_with("?n=2"),
        "{:?}",
        stub.requests()
    );
}

/// A scripted ECR endpoint answering only ListImages: `pages` tag pages, linked by
/// nextToken, or without end when `pages` is 0.
fn ecr_list_stub(pages: usize) -> Stub {
    Stub::start(move |req| {
        let target = req.headers.get("x-amz-target").cloned().unwrap_or_default();
        if !target.ends_with(".ListImages") {
            return StubResponse::new(400);
        }
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        // Only tagged images are asked for, as many per page as allowed.
        assert_eq!(body["filter"]["tagStatus"], "TAGGED", "{body}");
        let page: usize = body["nextToken"]
            .as_str()
            .and_then(|t| t.strip_prefix("page-")?.parse().ok())
            .unwrap_or(0);
        let mut reply = serde_json::json!({
            "imageIds": [
                {"imageDigest": format!("sha256:{}", "b".repeat(64)), "imageTag": format!("v1.{page}.0")}
            ]
        });
        if pages == 0 || page + 1 < pages {
            reply["nextToken"] = format!("page-{}", page + 1).into();
        }
        StubResponse::new(200)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(reply.to_string())
    })
}

fn ecr_client(stub: &Stub, limits: ListLimits) -> EcrClient {
    ecr_client_at(&format!("http://{}", stub.host())).with_list_limits(limits)
}

#[test]
fn ecr_pages_are_followed_and_bounded() {
    let stub = ecr_list_stub(3);
    let tags = rt()
        .block_on(ecr_client(&stub, ListLimits::ECR).list_tags())
        .unwrap();
    assert_eq!(tags, ["v1.0.0", "v1.1.0", "v1.2.0"]);
    let first: serde_json::Value = serde_json::from_slice(&stub.requests()[0].body).unwrap();
    assert_eq!(first["maxResults"], 1000);

    let stub = ecr_list_stub(0);
    let limits = ListLimits {
        page_size: 1,
        max_pages: 4,
    };
    let err = rt()
        .block_on(ecr_client(&stub, limits).list_tags())
        .unwrap_err();
    assert!(
        err.to_string().contains("after 4 pages (4 tags read)"),
        "{err}"
    );
    assert_eq!(stub.requests().len(), 4);
}

#[test]
fn ecr_floating_tags_only_move_forward() {
    // moto's ListImages honours the TAGGED filter (and returns every image in one page).
    let moto = Moto::start();
    let seeded = seed_ecr(&moto);
    let (hotfix, newer) = (seeded.single, seeded.other);
    let floating = |version: &str| TagArgs::ecr(&moto).sha().version(version).floating().json();

    tag_other(TagArgs::ecr(&moto).floating(), "v1.2.0");
    assert_hotfix_kept_v1(&floating("v1.1.4").run());
    let get = |tag: &str| ecr_image(&moto, tag).map(|i| i.digest);
    assert_eq!(get("v1"), Some(newer.clone()));
    assert_eq!(get("v1.1"), Some(hotfix.clone()));

    // Forward: v1.2.1 moves both.
    let run = floating("v1.2.1").run();
    run.assert_code(0);
    assert_eq!(
        run.statuses()[2..],
        pairs(&[("v1.2", "moved"), ("v1", "moved")])
    );
    assert_eq!(get("v1"), Some(hotfix));
}
