//! Images at upload: what they say of where and when they were taken is removed from the
//! bytes served (EXIF with its GPS position, XMP, IPTC, comments, embedded previews),
//! losslessly (`img-parts`), keeping only the orientation; and a JPEG thumbnail of at
//! most [`THUMB_EDGE`] pixels on the long side is made (`image`), unless the picture has
//! more pixels than allowed (a decompression bomb gets no thumbnail, and no decoding).

use std::io::Cursor;

use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageReader};
use img_parts::{ImageEXIF, ImageICC};

/// The long side of a thumbnail, at most.
pub const THUMB_EDGE: u32 = 1280;
const THUMB_QUALITY: u8 = 80;

/// What an image became.
#[derive(Debug, Default)]
pub struct Processed {
    /// The image without its metadata, when that changed its bytes.
    pub stripped: Option<Vec<u8>>,
    /// A JPEG thumbnail.
    pub thumb: Option<Vec<u8>>,
    /// As shown (after the orientation is applied).
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Strips `bytes` (of `content_type`) and thumbnails it, decoding nothing of more than
/// `max_pixels`. An image the decoder cannot read gets no thumbnail; nothing here fails.
pub fn process(bytes: &[u8], content_type: &str, max_pixels: u64) -> Processed {
    let mut out = Processed::default();
    let orientation = orientation(bytes);
    out.stripped = strip(bytes, content_type, orientation).filter(|s| s.as_slice() != bytes);
    let Ok(reader) = ImageReader::new(Cursor::new(bytes)).with_guessed_format() else { return out };
    let Ok((w, h)) = reader.into_dimensions() else { return out };
    let turned = matches!(orientation, 5..=8);
    (out.width, out.height) = if turned { (Some(h), Some(w)) } else { (Some(w), Some(h)) };
    if u64::from(w) * u64::from(h) > max_pixels {
        tracing::info!(width = w, height = h, "an image over the pixel limit gets no thumbnail");
        return out;
    }
    out.thumb = thumbnail(bytes, u64::from(w) * u64::from(h));
    out
}

fn thumbnail(bytes: &[u8], pixels: u64) -> Option<Vec<u8>> {
    let img = decode(bytes, pixels)?;
    let small = if img.width().max(img.height()) > THUMB_EDGE { img.thumbnail(THUMB_EDGE, THUMB_EDGE) } else { img };
    jpeg(&small, THUMB_QUALITY)
}

/// A member's picture from a photo: its centre, square, [`AVATAR_EDGE`] pixels a side,
/// turned as shown, as JPEG without metadata; `None` when it cannot be read or has more
/// pixels than `max_pixels`.
pub fn avatar(bytes: &[u8], max_pixels: u64) -> Option<Vec<u8>> {
    let (w, h) = ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?.into_dimensions().ok()?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return None;
    }
    let img = decode(bytes, pixels)?;
    let side = img.width().min(img.height());
    let square = img.crop_imm((img.width() - side) / 2, (img.height() - side) / 2, side, side);
    jpeg(&square.resize_exact(AVATAR_EDGE, AVATAR_EDGE, image::imageops::FilterType::Triangle), 85)
}

/// The picture of `bytes` (of `pixels` pixels, checked against the limit already),
/// turned as its orientation says; its decoder may take the picture's memory and its
/// own working memory, no more.
fn decode(bytes: &[u8], pixels: u64) -> Option<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(pixels * 8 + 64 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok()?;
    let mut img = DynamicImage::from_decoder(decoder).ok()?;
    img.apply_orientation(orientation);
    Some(img)
}

fn jpeg(img: &DynamicImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.to_rgb8().write_with_encoder(encoder).ok()?;
    Some(out)
}

/// The side of a member's picture, in pixels.
pub const AVATAR_EDGE: u32 = 256;

/// The EXIF orientation (1 to 8; 1 when none is said).
fn orientation(bytes: &[u8]) -> u8 {
    let Ok(reader) = ImageReader::new(Cursor::new(bytes)).with_guessed_format() else { return 1 };
    let Ok(mut decoder) = reader.into_decoder() else { return 1 };
    use image::metadata::Orientation::*;
    match decoder.orientation() {
        Ok(NoTransforms) | Err(_) => 1,
        Ok(FlipHorizontal) => 2,
        Ok(Rotate180) => 3,
        Ok(FlipVertical) => 4,
        Ok(Rotate90FlipH) => 5,
        Ok(Rotate90) => 6,
        Ok(Rotate270FlipH) => 7,
        Ok(Rotate270) => 8,
    }
}

/// The image without its metadata but the orientation; `None` when it cannot be parsed
/// (it is then kept as uploaded, and gets no thumbnail either if the decoder agrees).
fn strip(bytes: &[u8], content_type: &str, orientation: u8) -> Option<Vec<u8>> {
    let exif = (orientation != 1).then(|| Bytes::from(orientation_exif(orientation)));
    let b = Bytes::copy_from_slice(bytes);
    match content_type {
        "image/jpeg" => {
            use img_parts::jpeg::markers::{APP1, APP13, APP2, COM};
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(b).ok()?;
            let icc = jpeg.icc_profile();
            let segments = jpeg.segments_mut();
            // EXIF and XMP (APP1), IPTC (APP13), comments, and the multi-picture index
            // whose other pictures (previews, depth maps) carry their own EXIF.
            segments.retain(|s| {
                let m = s.marker();
                !(m == APP1 || m == APP13 || m == COM || (m == APP2 && s.contents().starts_with(b"MPF\0")))
            });
            jpeg.set_icc_profile(icc);
            jpeg.set_exif(exif);
            let mut out = Vec::with_capacity(bytes.len());
            jpeg.encoder().write_to(&mut out).ok()?;
            // Whatever follows the main picture's end (those other pictures) goes too.
            if let Some(end) = jpeg_end(&out) {
                out.truncate(end);
            }
            Some(out)
        }
        "image/png" => {
            let mut png = img_parts::png::Png::from_bytes(b).ok()?;
            for kind in [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"] {
                png.remove_chunks_by_type(kind);
            }
            png.set_exif(exif);
            let mut out = Vec::with_capacity(bytes.len());
            png.encoder().write_to(&mut out).ok()?;
            Some(out)
        }
        "image/webp" => {
            let mut webp = img_parts::webp::WebP::from_bytes(b).ok()?;
            webp.remove_chunks_by_id(*b"XMP ");
            webp.set_exif(exif);
            let mut out = Vec::with_capacity(bytes.len());
            webp.encoder().write_to(&mut out).ok()?;
            Some(out)
        }
        _ => None,
    }
}

/// Where a JPEG's main picture ends: just past the first end marker after its first
/// scan begins (entropy-coded data never holds one: a 0xFF there is followed by 0 or a
/// restart marker).
fn jpeg_end(jpeg: &[u8]) -> Option<usize> {
    let mut at = 2; // past the start marker
    while at + 4 <= jpeg.len() {
        if jpeg[at] != 0xFF {
            return None;
        }
        let marker = jpeg[at + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if marker == 0xDA {
            let scan = at + 2 + len;
            return jpeg.get(scan..)?.windows(2).position(|w| w == [0xFF, 0xD9]).map(|p| scan + p + 2);
        }
        at += 2 + len;
    }
    None
}

/// A minimal EXIF block holding only an orientation: a big-endian TIFF header and one
/// directory of one entry (tag 0x0112, a SHORT).
fn orientation_exif(orientation: u8) -> Vec<u8> {
    let mut e = Vec::with_capacity(26);
    e.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // header, first directory at 8
    e.extend_from_slice(&1u16.to_be_bytes()); // one entry
    e.extend_from_slice(&0x0112u16.to_be_bytes());
    e.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    e.extend_from_slice(&1u32.to_be_bytes()); // one value
    e.extend_from_slice(&u16::from(orientation).to_be_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_be_bytes()); // no next directory
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;

    /// A JPEG with an EXIF block holding a GPS position (and orientation 6), a comment,
    /// and bytes after its end.
    pub(crate) fn jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&img).unwrap();
        let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(plain)).unwrap();
        // TIFF header, IFD0 with Orientation = 6 and a GPS IFD pointer; the GPS IFD with
        // GPSLatitudeRef "N".
        let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
        exif.extend_from_slice(&2u16.to_be_bytes());
        exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        exif.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
        exif.extend_from_slice(&0u32.to_be_bytes());
        exif.extend_from_slice(&1u16.to_be_bytes());
        exif.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        exif.extend_from_slice(&0u32.to_be_bytes());
        exif.extend_from_slice(b"GPSSECRET");
        jpeg.set_exif(Some(Bytes::from(exif)));
        jpeg.segments_mut().insert(
            1,
            img_parts::jpeg::JpegSegment::new_with_contents(
                img_parts::jpeg::markers::COM,
                Bytes::from_static(b"taken at home"),
            ),
        );
        let mut out = Vec::new();
        jpeg.encoder().write_to(&mut out).unwrap();
        out.extend_from_slice(b"\xff\xd8trailing GPSSECRET picture\xff\xd9");
        out
    }

    #[test]
    fn a_photo_loses_its_position_keeps_its_orientation_and_gets_a_turned_thumbnail() {
        let photo = jpeg_with_gps(1600, 1000);
        let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(find(&photo, b"GPSSECRET") && find(&photo, b"taken at home"));
        let p = process(&photo, "image/jpeg", 50_000_000);
        let stripped = p.stripped.expect("metadata removed");
        assert!(!find(&stripped, b"GPSSECRET"), "no GPS and nothing after the picture");
        assert!(!find(&stripped, b"taken at home"), "no comment");
        assert_eq!(orientation(&stripped), 6, "the orientation stays");
        assert_eq!((p.width, p.height), (Some(1000), Some(1600)), "as shown: turned");
        let thumb = image::load_from_memory(&p.thumb.expect("a thumbnail")).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (800, 1280), "turned and at most 1280 px");
        assert!(image::load_from_memory(&stripped).is_ok(), "the stripped photo still decodes");
    }

    #[test]
    fn a_picture_is_the_photos_centre_turned_and_small() {
        let a = avatar(&jpeg_with_gps(1600, 1000), 50_000_000).expect("a picture");
        let img = image::load_from_memory(&a).unwrap();
        assert_eq!((img.width(), img.height()), (AVATAR_EDGE, AVATAR_EDGE));
        assert!(!a.windows(9).any(|w| w == b"GPSSECRET"));
        assert!(avatar(&jpeg_with_gps(400, 300), 1000).is_none(), "over the pixel limit");
        assert!(avatar(b"not an image", 1000).is_none());
    }

    #[test]
    fn an_image_over_the_pixel_limit_is_not_decoded() {
        let photo = jpeg_with_gps(400, 300);
        let p = process(&photo, "image/jpeg", 100_000);
        assert!(p.thumb.is_none());
        assert_eq!((p.width, p.height), (Some(300), Some(400)));
        // A header claiming 60000 x 60000 pixels: refused before any allocation.
        let mut bomb = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bomb)
            .write_image(&[0u8; 16 * 16 * 3], 16, 16, image::ExtendedColorType::Rgb8)
            .unwrap();
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let p = process(&bomb, "image/png", 50_000_000);
        assert!(p.thumb.is_none());
        let p = process(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", 50_000_000);
        assert!(p.thumb.is_none() && p.width.is_none());
    }
}
