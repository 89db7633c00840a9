// Photos chosen in a browser, ready for the API's report forms (the portal's and the console's desk): shrunk to at
// most LONG_SIDE px on the long side as JPEG, under the API's limit per photo, and read as a data URL.
export const MAX_PHOTOS = 3;
export const PHOTO_MAX_BYTES = 1_250_000; // the API's limit per photo, after shrinking
const PICK_MAX_BYTES = 25_000_000; // a file larger than this is not a phone photo
const LONG_SIDE = 1600;

export function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// A file the browser cannot draw goes as it is, and the server decides by its content.
export async function shrink(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file;
  }
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  for (const quality of [0.85, 0.7, 0.55]) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size <= PHOTO_MAX_BYTES) return blob;
  }
  return file;
}

// A chosen file ready for a form: { photo: { name, size, data } }, or { problem } when it is larger than any phone
// photo ("file") or still over the API's limit once shrunk ("shrunk"): each form says it in its own words.
export async function prepare(file) {
  if (file.size > PICK_MAX_BYTES) return { problem: "file" };
  const small = await shrink(file);
  if (small.size > PHOTO_MAX_BYTES) return { problem: "shrunk" };
  return { photo: { name: file.name, size: small.size, data: await readAsDataUrl(small) } };
}
